import type { Actor } from '@chat/shared/auth';
import type { RpcClient } from '@chat/shared/nats';
import { type RoomAction, roomsRpc } from '@chat/shared/rpc';
import type { NatsConnection, Subscription } from 'nats';
import type { RoomAccess } from '../domain/messages.js';

/** Asks the rooms service, which owns membership and the rules, over NATS. */
export function roomAccessOverNats(rpc: RpcClient): RoomAccess {
  return {
    authorize: (roomId: string, actor: Actor, action: RoomAction) =>
      rpc.call(roomsRpc.authorize, { room_id: roomId, user_id: actor.user_id, roles: actor.roles, action }),
    roomIdsOf: async (userId: string) => (await rpc.call(roomsRpc.userRoomIds, { user_id: userId })).room_ids,
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
  private readonly allowed = new Map<string, { until: number; answer: { allowed: boolean; member: boolean } }>();
  private readonly subscription: Subscription;

  constructor(
    private readonly inner: RoomAccess,
    nc: NatsConnection,
    namespace: string,
    private readonly ttlMs: number,
  ) {
    this.subscription = nc.subscribe(`${namespace}.room.*.signal`, {
      callback: (error, msg) => {
        if (error) return;
        const signal = msg.json<{ type?: string; room_id?: string; user_id?: string }>();
        if (signal.type === 'member.removed' || signal.type === 'room.updated') this.forget(String(signal.room_id), signal.user_id);
      },
    });
  }

  private key(roomId: string, userId: string, action: RoomAction): string {
    return `${roomId} ${userId} ${action}`;
  }

  private forget(roomId: string, userId: string | undefined): void {
    for (const key of this.allowed.keys()) if (key.startsWith(`${roomId} ${userId ?? ''}`)) this.allowed.delete(key);
  }

  async authorize(roomId: string, actor: Actor, action: RoomAction) {
    // Token roles change what is allowed (moderator), so they are part of the key.
    const key = `${this.key(roomId, actor.user_id, action)} ${actor.roles.join(',')}`;
    const cached = this.allowed.get(key);
    if (cached && cached.until > Date.now()) return cached.answer;
    const answer = await this.inner.authorize(roomId, actor, action);
    if (answer.allowed) {
      if (this.allowed.size > 200_000) this.allowed.clear();
      this.allowed.set(key, { until: Date.now() + this.ttlMs, answer: { allowed: answer.allowed, member: answer.member } });
    }
    return answer;
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
