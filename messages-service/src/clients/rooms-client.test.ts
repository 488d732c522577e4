import type { Actor } from '@chat/shared/auth';
import type { RoomAction } from '@chat/shared/rpc';
import type { NatsConnection } from 'nats';
import { describe, expect, it } from 'vitest';
import type { RoomAccess } from '../domain/room-access.js';
import { CachedRoomsAccessClient } from './rooms-client.js';

/** The rooms service as a table of allowed (room, user) pairs, counting the questions it is asked. */
function fakeRooms(allowed: Set<string>) {
  const asked: string[] = [];
  const access: RoomAccess = {
    authorize: async (roomId: string, actor: Actor, _action: RoomAction) => {
      asked.push(`${roomId}/${actor.user_id}`);
      const yes = allowed.has(`${roomId}/${actor.user_id}`);
      return { allowed: yes, member: yes, closed: false, visible_from_seq: 0 };
    },
    roomsOf: async () => [],
    nonMembers: async () => [],
    memberIds: async () => [],
    contextRoom: async () => ({ room_id: 'r', closed: false }),
  };
  return { access, asked };
}

// Only subscribe is used, and no signal is delivered: tests call forget() as a signal would.
const quietNats = { subscribe: () => ({ unsubscribe() {} }) } as unknown as NatsConnection;
const actor = (id: string): Actor => ({ user_id: id, name: null, roles: [] });

describe('CachedRoomsAccessClient', () => {
  it('reuses allowed answers and asks again after a refusal', async () => {
    const rooms = fakeRooms(new Set(['r1/alice']));
    const cache = new CachedRoomsAccessClient(rooms.access, quietNats, 'ns', 60_000);
    expect((await cache.authorize('r1', actor('alice'), 'message.send')).allowed).toBe(true);
    expect((await cache.authorize('r1', actor('alice'), 'message.send')).allowed).toBe(true);
    expect((await cache.authorize('r1', actor('bob'), 'message.send')).allowed).toBe(false);
    expect((await cache.authorize('r1', actor('bob'), 'message.send')).allowed).toBe(false);
    expect(rooms.asked).toEqual(['r1/alice', 'r1/bob', 'r1/bob']);
  });

  it('forgets one member, leaving a member whose id shares the prefix', async () => {
    const rooms = fakeRooms(new Set(['r1/u1', 'r1/u10']));
    const cache = new CachedRoomsAccessClient(rooms.access, quietNats, 'ns', 60_000);
    await cache.authorize('r1', actor('u1'), 'message.send');
    await cache.authorize('r1', actor('u10'), 'message.send');
    cache.forget('r1', 'u1');
    await cache.authorize('r1', actor('u1'), 'message.send');
    await cache.authorize('r1', actor('u10'), 'message.send');
    expect(rooms.asked).toEqual(['r1/u1', 'r1/u10', 'r1/u1']);
  });

  it('forgets a whole room and no other', async () => {
    const rooms = fakeRooms(new Set(['r1/a', 'r1/b', 'r2/a']));
    const cache = new CachedRoomsAccessClient(rooms.access, quietNats, 'ns', 60_000);
    for (const key of ['r1/a', 'r1/b', 'r2/a']) {
      const [room, user] = key.split('/') as [string, string];
      await cache.authorize(room, actor(user), 'room.read');
    }
    cache.forget('r1');
    expect(cache.size).toBe(1);
    await cache.authorize('r2', actor('a'), 'room.read');
    expect(rooms.asked).toHaveLength(3);
  });

  it('evicts the coldest answer when full instead of dropping everything', async () => {
    const rooms = fakeRooms(new Set(['r1/a', 'r1/b', 'r1/c']));
    const cache = new CachedRoomsAccessClient(rooms.access, quietNats, 'ns', 60_000, 2);
    await cache.authorize('r1', actor('a'), 'room.read');
    await cache.authorize('r1', actor('b'), 'room.read');
    await cache.authorize('r1', actor('a'), 'room.read'); // a is now the warmer one
    await cache.authorize('r1', actor('c'), 'room.read'); // b goes
    expect(cache.size).toBe(2);
    await cache.authorize('r1', actor('a'), 'room.read');
    await cache.authorize('r1', actor('c'), 'room.read');
    expect(rooms.asked).toEqual(['r1/a', 'r1/b', 'r1/c']);
    // The evicted key left the room index too: forgetting the room empties the cache.
    cache.forget('r1');
    expect(cache.size).toBe(0);
  });
});
