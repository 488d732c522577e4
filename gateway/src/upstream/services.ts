import type {
  AddMembersBody,
  ContextRef,
  ContextRoomBody,
  CreateRoomBody,
  HistoryQuery,
  MembershipSettingsBody,
  RegisterDeviceBody,
  Role,
  SendMessageBody,
} from '@chat/shared';
import type { Actor } from '@chat/shared/auth';
import type { RpcClient } from '@chat/shared/nats';
import { type AttachmentUpload, messagesRpc, notifierRpc, type RoomAction, roomsRpc } from '@chat/shared/rpc';
import type { LimitedAction } from '../limits/rate-limits.js';

/** Spends from a user's rate-limit bucket, throwing `rate_limited` when it is empty. */
export interface Limiter {
  spend(action: LimitedAction, userId: string): Promise<void>;
}

/**
 * The services behind the gateway, as typed calls; every transport (socket, REST) goes through
 * here, so the rate limits that guard writes apply to both alike.
 */
export class Upstream {
  constructor(
    private readonly rpc: RpcClient,
    private readonly limits?: Limiter,
  ) {}

  private async spend(action: LimitedAction, actor: Actor): Promise<void> {
    await this.limits?.spend(action, actor.user_id);
  }

  createRoom(actor: Actor, body: CreateRoomBody) {
    return this.rpc.call(roomsRpc.createRoom, { actor, body });
  }

  ensureContextRoom(actor: Actor, context: ContextRef, body: ContextRoomBody) {
    return this.rpc.call(roomsRpc.ensureContextRoom, { actor, context, body });
  }

  getRoom(actor: Actor, roomId: string) {
    return this.rpc.call(roomsRpc.getRoom, { actor, room_id: roomId });
  }

  listRooms(actor: Actor, query: { archived?: boolean | undefined; limit?: number | undefined; cursor?: string | undefined }) {
    return this.rpc.call(roomsRpc.listRooms, { actor, ...query });
  }

  renameRoom(actor: Actor, roomId: string, title: string) {
    return this.rpc.call(roomsRpc.renameRoom, { actor, room_id: roomId, title });
  }

  updateMembership(actor: Actor, roomId: string, settings: MembershipSettingsBody) {
    return this.rpc.call(roomsRpc.updateMembership, { actor, room_id: roomId, settings });
  }

  listMembers(actor: Actor, roomId: string, query: { limit?: number | undefined; cursor?: string | undefined }) {
    return this.rpc.call(roomsRpc.listMembers, { actor, room_id: roomId, ...query });
  }

  addMembers(actor: Actor, roomId: string, body: AddMembersBody) {
    return this.rpc.call(roomsRpc.addMembers, { actor, room_id: roomId, body });
  }

  changeRole(actor: Actor, roomId: string, userId: string, role: Role) {
    return this.rpc.call(roomsRpc.changeRole, { actor, room_id: roomId, user_id: userId, role });
  }

  removeMember(actor: Actor, roomId: string, userId: string) {
    return this.rpc.call(roomsRpc.removeMember, { actor, room_id: roomId, user_id: userId });
  }

  markRead(actor: Actor, roomId: string, seq: number) {
    return this.rpc.call(roomsRpc.markRead, { actor, room_id: roomId, seq });
  }

  async receipts(actor: Actor, roomId: string, messageId: string) {
    const message = await this.rpc.call(messagesRpc.getMessage, { actor, room_id: roomId, message_id: messageId });
    return this.rpc.call(roomsRpc.receipts, { actor, room_id: roomId, seq: message.seq, sender_id: message.sender_id });
  }

  unreadSummary(actor: Actor) {
    return this.rpc.call(roomsRpc.unreadSummary, { actor });
  }

  /** The rooms of each user (rooms over `maxMembers` members left out). */
  async userRoomIds(userIds: string[], maxMembers?: number): Promise<Map<string, string[]>> {
    const { users } = await this.rpc.call(roomsRpc.userRoomIds, { user_ids: userIds, max_members: maxMembers });
    return new Map(users.map((u) => [u.user_id, u.room_ids]));
  }

  /** A room's member ids, or null when it has more than `maxMembers`. */
  async roomMemberIds(roomId: string, maxMembers: number): Promise<string[] | null> {
    return (await this.rpc.call(roomsRpc.roomMembers, { room_id: roomId, max_members: maxMembers })).user_ids;
  }

  /** Typing goes out on NATS directly; only its budget is spent here. */
  spendTyping(actor: Actor): Promise<void> {
    return this.spend('typing', actor);
  }

  registerDevice(actor: Actor, token: string, body: RegisterDeviceBody) {
    return this.rpc.call(notifierRpc.registerDevice, { actor, token, body });
  }

  unregisterDevice(actor: Actor, token: string) {
    return this.rpc.call(notifierRpc.unregisterDevice, { actor, token });
  }

  rememberUsers(actors: Actor[]) {
    return this.rpc.call(roomsRpc.rememberUsers, { actors });
  }

  authorize(actor: Actor, roomId: string, action: RoomAction) {
    return this.rpc.call(roomsRpc.authorize, { room_id: roomId, user_id: actor.user_id, roles: actor.roles, action });
  }

  async sendMessage(actor: Actor, roomId: string, message: SendMessageBody) {
    await this.spend('send', actor);
    return this.rpc.call(messagesRpc.send, { actor, room_id: roomId, message });
  }

  async editMessage(actor: Actor, roomId: string, messageId: string, body: string) {
    await this.spend('edit', actor);
    return this.rpc.call(messagesRpc.edit, { actor, room_id: roomId, message_id: messageId, body });
  }

  async react(actor: Actor, roomId: string, messageId: string, emoji: string, action: 'added' | 'removed') {
    await this.spend('reaction', actor);
    return this.rpc.call(messagesRpc.react, { actor, room_id: roomId, message_id: messageId, emoji, action });
  }

  async deleteMessage(actor: Actor, roomId: string, messageId: string) {
    await this.spend('edit', actor);
    return this.rpc.call(messagesRpc.deleteMessage, { actor, room_id: roomId, message_id: messageId });
  }

  registerAttachment(actor: Actor, roomId: string, upload: AttachmentUpload) {
    return this.rpc.call(messagesRpc.registerAttachment, { actor, room_id: roomId, upload });
  }

  getAttachment(actor: Actor, attachmentId: string) {
    return this.rpc.call(messagesRpc.getAttachment, { actor, attachment_id: attachmentId });
  }

  search(actor: Actor, query: { q: string; room_id?: string | undefined; limit?: number | undefined; cursor?: string | undefined }) {
    return this.rpc.call(messagesRpc.search, { actor, ...query });
  }

  history(actor: Actor, roomId: string, query: HistoryQuery) {
    return this.rpc.call(messagesRpc.history, { actor, room_id: roomId, query });
  }

  /** `membershipChecked`: the caller found the actor in the room's current member list. */
  sync(actor: Actor, roomId: string, sinceSeq: number | undefined, maxEvents: number, membershipChecked = false) {
    return this.rpc.call(messagesRpc.sync, {
      actor,
      room_id: roomId,
      since_seq: sinceSeq,
      max_events: maxEvents,
      membership_checked: membershipChecked || undefined,
    });
  }
}
