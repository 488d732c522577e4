import type { ContextRef } from '@chat/shared';
import type { Actor } from '@chat/shared/auth';
import { type RpcClient, subjects, subscribeRoomSignals } from '@chat/shared/nats';
import { type RoomAction, roomsRpc } from '@chat/shared/rpc';
import { LRUCache } from 'lru-cache';
import type { NatsConnection } from 'nats';
import type { RoomAccess, RoomAccessAnswer } from '../domain/room-access.js';

/** Asks the rooms service, which owns membership and the rules, over NATS. */
export function roomsAccessClient(rpc: RpcClient): RoomAccess {
  return {
    authorize: (roomId: string, actor: Actor, action: RoomAction) =>
      rpc.call(roomsRpc.authorize, { room_id: roomId, user_id: actor.user_id, roles: actor.roles, action }),
    roomsOf: async (userId: string) => {
      const user = (await rpc.call(roomsRpc.userRoomIds, { user_ids: [userId] })).users[0];
      return (user?.room_ids ?? []).map((roomId) => ({ room_id: roomId, visible_from_seq: user?.visible_from?.[roomId] ?? 0 }));
    },
    nonMembers: async (roomId: string, userIds: string[]) =>
      userIds.length === 0 ? [] : (await rpc.call(roomsRpc.nonMembers, { room_id: roomId, user_ids: userIds })).user_ids,
    // A group holds at most 10,000 members, the endpoint's cap, so the list is never cut.
    memberIds: async (roomId: string) => (await rpc.call(roomsRpc.roomMembers, { room_id: roomId, max_members: 10_000 })).user_ids ?? [],
    contextRoom: (actor: Actor, context: ContextRef) => rpc.call(roomsRpc.contextRoom, { actor, context }),
  };
}

type Answer = RoomAccessAnswer;

/**
 * Remembers "allowed" answers for a while, so a busy room does not ask the rooms service on every
 * send. Refusals are never cached, and a member's entries are dropped the moment the rooms service
 * signals their removal (or a role change, a close or reopen through room.updated, or a block
 * through the access-changed subject), so a removed member is refused at once and a closed room
 * turns read-only at once.
 * Bounded as an LRU, so a full cache evicts its coldest answers instead of forgetting all at once.
 */
export class CachedRoomsAccessClient implements RoomAccess {
  /** `<room>\n<user> <action> <roles>` → answer. */
  private readonly allowed: LRUCache<string, { roomId: string; answer: Answer }>;
  /** room id → its keys in `allowed`, so a signal forgets a room's entries without a scan. */
  private readonly byRoom = new Map<string, Set<string>>();
  private readonly subscription: { unsubscribe(): void };

  constructor(
    private readonly inner: RoomAccess,
    nc: NatsConnection,
    namespace: string,
    ttlMs: number,
    maxEntries = 200_000,
  ) {
    this.allowed = new LRUCache({
      max: maxEntries,
      ttl: ttlMs,
      dispose: (entry, key, reason) => {
        // A refreshed answer keeps its key; any other exit (expiry, eviction, delete) unindexes it.
        if (reason !== 'set') this.unindex(entry.roomId, key);
      },
    });
    const signals = subscribeRoomSignals(nc, namespace, ['member.removed', 'room.updated'], (signal) => {
      if (signal.type === 'member.removed') this.forget(signal.room_id, signal.user_id);
      if (signal.type === 'room.updated') this.forget(signal.room_id);
    });
    const accessChanges = nc.subscribe(subjects.allAccessChanged(namespace), {
      callback: (error, msg) => {
        if (!error) this.forget(msg.subject.slice(msg.subject.lastIndexOf('.') + 1));
      },
    });
    this.subscription = {
      unsubscribe() {
        signals.unsubscribe();
        accessChanges.unsubscribe();
      },
    };
  }

  /** Entries now held (for tests and gauges). */
  get size(): number {
    return this.allowed.size;
  }

  private unindex(roomId: string, key: string): void {
    const keys = this.byRoom.get(roomId);
    if (!keys) return;
    keys.delete(key);
    if (keys.size === 0) this.byRoom.delete(roomId);
  }

  /** Drops a room's answers, or only one user's in it. */
  forget(roomId: string, userId?: string): void {
    const keys = this.byRoom.get(roomId);
    if (!keys) return;
    const prefix = `${roomId}\n${userId ?? ''}${userId === undefined ? '' : ' '}`;
    for (const key of [...keys]) if (key.startsWith(prefix)) this.allowed.delete(key);
  }

  async authorize(roomId: string, actor: Actor, action: RoomAction) {
    // Token roles change what is allowed (moderator), so they are part of the key.
    const key = `${roomId}\n${actor.user_id} ${action} ${actor.roles.join(',')}`;
    const cached = this.allowed.get(key);
    if (cached) return cached.answer;
    const answer = await this.inner.authorize(roomId, actor, action);
    if (answer.allowed) this.remember(roomId, key, answer);
    return answer;
  }

  private remember(roomId: string, key: string, answer: Answer): void {
    this.allowed.set(key, { roomId, answer });
    let keys = this.byRoom.get(roomId);
    if (!keys) {
      keys = new Set();
      this.byRoom.set(roomId, keys);
    }
    keys.add(key);
  }

  roomsOf(userId: string) {
    return this.inner.roomsOf(userId);
  }

  nonMembers(roomId: string, userIds: string[]) {
    return this.inner.nonMembers(roomId, userIds);
  }

  memberIds(roomId: string) {
    return this.inner.memberIds(roomId);
  }

  /** Not cached: a host's system messages are rare, and a close must be seen at once. */
  contextRoom(actor: Actor, context: ContextRef) {
    return this.inner.contextRoom(actor, context);
  }

  stop(): void {
    this.subscription.unsubscribe();
  }
}
