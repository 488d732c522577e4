import type { Actor } from '@chat/shared/auth';
import { type RpcClient, subscribeRoomSignals } from '@chat/shared/nats';
import { type RoomAction, roomsRpc } from '@chat/shared/rpc';
import type { NatsConnection } from 'nats';
import type { RoomAccess } from '../domain/messages.js';

/** Asks the rooms service, which owns membership and the rules, over NATS. */
export function roomAccessOverNats(rpc: RpcClient): RoomAccess {
  return {
    authorize: (roomId: string, actor: Actor, action: RoomAction) =>
      rpc.call(roomsRpc.authorize, { room_id: roomId, user_id: actor.user_id, roles: actor.roles, action }),
    roomIdsOf: async (userId: string) => (await rpc.call(roomsRpc.userRoomIds, { user_ids: [userId] })).users[0]?.room_ids ?? [],
    nonMembers: async (roomId: string, userIds: string[]) =>
      userIds.length === 0 ? [] : (await rpc.call(roomsRpc.nonMembers, { room_id: roomId, user_ids: userIds })).user_ids,
  };
}

/**
 * Remembers "allowed" answers for a while, so a busy room does not ask the rooms service on every
 * send. Refusals are never cached, and a member's entries are dropped the moment the rooms service
 * signals their removal (or a role change through room.updated), so a removed member is refused at once.
 */
export class CachedRoomAccess implements RoomAccess {
  /** room id → `<user> <action> <roles>` → answer; by room, so a signal forgets without a scan. */
  private readonly allowed = new Map<string, Map<string, { until: number; answer: { allowed: boolean; member: boolean } }>>();
  private size = 0;
  private readonly subscription: { unsubscribe(): void };

  constructor(
    private readonly inner: RoomAccess,
    nc: NatsConnection,
    namespace: string,
    private readonly ttlMs: number,
  ) {
    this.subscription = subscribeRoomSignals(nc, namespace, ['member.removed', 'room.updated'], (signal) => {
      if (signal.type === 'member.removed') this.forget(signal.room_id, signal.user_id);
      if (signal.type === 'room.updated') this.forget(signal.room_id);
    });
  }

  private forget(roomId: string, userId?: string): void {
    const room = this.allowed.get(roomId);
    if (!room) return;
    for (const key of room.keys()) {
      if (userId !== undefined && !key.startsWith(`${userId} `)) continue;
      room.delete(key);
      this.size -= 1;
    }
    if (room.size === 0) this.allowed.delete(roomId);
  }

  async authorize(roomId: string, actor: Actor, action: RoomAction) {
    // Token roles change what is allowed (moderator), so they are part of the key.
    const key = `${actor.user_id} ${action} ${actor.roles.join(',')}`;
    const cached = this.allowed.get(roomId)?.get(key);
    if (cached && cached.until > Date.now()) return cached.answer;
    const answer = await this.inner.authorize(roomId, actor, action);
    if (answer.allowed) this.remember(roomId, key, { allowed: answer.allowed, member: answer.member });
    return answer;
  }

  private remember(roomId: string, key: string, answer: { allowed: boolean; member: boolean }): void {
    if (this.size > 200_000) {
      this.allowed.clear();
      this.size = 0;
    }
    let room = this.allowed.get(roomId);
    if (!room) {
      room = new Map();
      this.allowed.set(roomId, room);
    }
    if (!room.has(key)) this.size += 1;
    room.set(key, { until: Date.now() + this.ttlMs, answer });
  }

  roomIdsOf(userId: string) {
    return this.inner.roomIdsOf(userId);
  }

  nonMembers(roomId: string, userIds: string[]) {
    return this.inner.nonMembers(roomId, userIds);
  }

  stop(): void {
    this.subscription.unsubscribe();
  }
}
