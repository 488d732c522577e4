import { describe, expect, it } from 'vitest';
import { onlineHereFirst, onlineMembersOf } from './presence.js';

describe('online members of a room', () => {
  const online = new Set(['a', 'c']);
  const asked: string[] = [];
  const onlineMembers = onlineMembersOf(async (id) => {
    asked.push(id);
    return online.has(id);
  }, 3);

  it('lists the online members of a room up to the cap', async () => {
    expect(await onlineMembers(['a', 'b', 'c'])).toEqual(['a', 'c']);
  });

  it('answers an empty list, without asking, for a larger room or an unknown member list', async () => {
    asked.length = 0;
    expect(await onlineMembers(['a', 'b', 'c', 'd'])).toEqual([]);
    expect(await onlineMembers(null)).toEqual([]);
    expect(asked).toEqual([]);
  });
});

describe('online here first', () => {
  it('answers a user with a socket here at once, and asks the registry only about the others', async () => {
    const asked: string[] = [];
    const isOnline = onlineHereFirst(
      (id) => id === 'here',
      async (id) => {
        asked.push(id);
        return id === 'elsewhere';
      },
    );
    expect(await Promise.all(['here', 'elsewhere', 'gone'].map(isOnline))).toEqual([true, true, false]);
    expect(asked).toEqual(['elsewhere', 'gone']);
  });
});
