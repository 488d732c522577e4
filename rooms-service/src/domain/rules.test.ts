import { describe, expect, it } from 'vitest';
import { directRoomKey } from './direct-key.js';
import { isAllowed } from './policy.js';
import { decodeRoomCursor, encodeRoomCursor } from './room-view.js';

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

  it('round-trips list cursors and rejects foreign ones', () => {
    const cursor = encodeRoomCursor(1_760_000_000_123_456, '7f7a1c52-4b8e-4a55-9d3a-4a8f0b6e1c11');
    expect(decodeRoomCursor(cursor)).toEqual({ activityMicros: 1_760_000_000_123_456, roomId: '7f7a1c52-4b8e-4a55-9d3a-4a8f0b6e1c11' });
    expect(decodeRoomCursor('zzz')).toBeNull();
  });
});
