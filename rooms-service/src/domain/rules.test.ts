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
    ['message.send_urgent', 'member', [], false],
    ['message.send_urgent', 'admin', [], true],
    ['message.send_urgent', 'owner', [], true],
    ['message.send_urgent', 'member', ['staff'], true],
    ['message.send_urgent', 'member', ['moderator'], true],
    ['message.send_urgent', 'member', ['service'], true],
    ['message.send_urgent', null, ['staff'], false],
  ] as const)('%s by role %s with token roles %j: %s', (action, role, tokenRoles, expected) => {
    expect(isAllowed(action, { role, kind: 'group', tokenRoles })).toBe(expected);
  });

  it('makes a closed room read-only for everyone, whatever their role', () => {
    for (const role of ['owner', 'admin', 'member'] as const) {
      expect(isAllowed('message.send', { role, kind: 'context', tokenRoles: ['service'], closed: true })).toBe(false);
      expect(isAllowed('room.read', { role, kind: 'context', tokenRoles: [], closed: true })).toBe(true);
    }
  });
});
