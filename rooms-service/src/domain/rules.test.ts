import { describe, expect, it } from 'vitest';
import { directRoomKey } from './direct-key.js';
import { isAllowed } from './policy.js';

describe('rooms rules', () => {
  it('gives a pair of users one direct key, whoever asks, without separator collisions', () => {
    expect(directRoomKey('alice', 'bob')).toBe(directRoomKey('bob', 'alice'));
    expect(directRoomKey('a","b', 'c')).not.toBe(directRoomKey('a', 'b","c'));
  });

  it.each([
    ['room.read', null, [], false],
    ['room.read', 'member', [], true],
    ['message.send', null, ['moderator'], false],
    ['message.send', 'member', [], true],
    ['message.moderate', 'member', [], false],
    ['message.moderate', 'admin', [], true],
    ['message.moderate', 'owner', [], true],
    ['message.moderate', null, ['moderator'], true],
  ] as const)('%s by role %s with token roles %j: %s', (action, role, tokenRoles, expected) => {
    expect(isAllowed(action, { role, kind: 'group', tokenRoles })).toBe(expected);
  });
});
