import type {
  AddMembersBody,
  ContextRef,
  ContextRoomBody,
  CreateReportBody,
  CreateRoomBody,
  HistoryQuery,
  MembershipSettingsBody,
  RegisterDeviceBody,
  ReportStatus,
  Role,
  SendMessageBody,
  SystemMessageBody,
  UpdateRoomBody,
} from '@chat/shared';
import { ChatError } from '@chat/shared';
import type { Actor } from '@chat/shared/auth';
import type { RpcClient } from '@chat/shared/nats';
import {
  type AttachmentUpload,
  messagesRpc,
  notifierRpc,
  type RoomAction,
  roomsRpc,
  SYNC_BATCH_MAX_ITEMS,
  type SyncAnswer,
  type SyncRequest,
} from '@chat/shared/rpc';
import type { LimitedAction } from '../limits/rate-limits.js';
import type { LoggedEvent } from '../ws/room-hub.js';
import { TurnBatcher } from './coalesce.js';

/** Spends from a user's rate-limit bucket, throwing `rate_limited` when it is empty. */
export interface Limiter {
  spend(action: LimitedAction, userId: string): Promise<void>;
}

/**
 * The services behind the gateway, as typed calls; every transport (socket, REST) goes through
 * here, so the rate limits that guard writes apply to both alike.
 */
export class ServicesClient {
  private readonly syncs = new TurnBatcher<SyncRequest, SyncAnswer>((items) => this.syncBatch(items), SYNC_BATCH_MAX_ITEMS);

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

  setContextRoomClosed(actor: Actor, context: ContextRef, closed: boolean) {
    return this.rpc.call(roomsRpc.setContextRoomClosed, { actor, context, closed });
  }

  getRoom(actor: Actor, roomId: string) {
    return this.rpc.call(roomsRpc.getRoom, { actor, room_id: roomId });
  }

  listRooms(actor: Actor, query: { archived?: boolean | undefined; limit?: number | undefined; cursor?: string | undefined }) {
    return this.rpc.call(roomsRpc.listRooms, { actor, ...query });
  }

  updateRoom(actor: Actor, roomId: string, changes: UpdateRoomBody) {
    return this.rpc.call(roomsRpc.updateRoom, { actor, room_id: roomId, changes });
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

  getMessage(actor: Actor, roomId: string, messageId: string) {
    return this.rpc.call(messagesRpc.getMessage, { actor, room_id: roomId, message_id: messageId });
  }

  async receipts(actor: Actor, roomId: string, messageId: string) {
    const message = await this.rpc.call(messagesRpc.getMessage, { actor, room_id: roomId, message_id: messageId });
    return this.rpc.call(roomsRpc.receipts, { actor, room_id: roomId, seq: message.seq, sender_id: message.sender_id });
  }

  block(actor: Actor, userId: string) {
    return this.rpc.call(roomsRpc.block, { actor, user_id: userId });
  }

  unblock(actor: Actor, userId: string) {
    return this.rpc.call(roomsRpc.unblock, { actor, user_id: userId });
  }

  listBlocks(actor: Actor) {
    return this.rpc.call(roomsRpc.listBlocks, { actor });
  }

  ban(actor: Actor, roomId: string, userId: string) {
    return this.rpc.call(roomsRpc.ban, { actor, room_id: roomId, user_id: userId });
  }

  unban(actor: Actor, roomId: string, userId: string) {
    return this.rpc.call(roomsRpc.unban, { actor, room_id: roomId, user_id: userId });
  }

  listBans(actor: Actor, roomId: string) {
    return this.rpc.call(roomsRpc.listBans, { actor, room_id: roomId });
  }

  unreadSummary(actor: Actor) {
    return this.rpc.call(roomsRpc.unreadSummary, { actor });
  }

  /** The rooms of each user (rooms over `maxMembers` members left out). */
  async userRoomIds(userIds: string[], maxMembers?: number): Promise<Map<string, string[]>> {
    const { users } = await this.rpc.call(roomsRpc.userRoomIds, { user_ids: userIds, max_members: maxMembers });
    return new Map(users.map((u) => [u.user_id, u.room_ids]));
  }

  /** A room's member ids (null when more than `maxMembers`) and its history visibility. */
  roomMembers(roomId: string, maxMembers: number) {
    return this.rpc.call(roomsRpc.roomMembers, { room_id: roomId, max_members: maxMembers });
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

  /** A host's system message into its object's room; spends from the service token's send bucket like any send. */
  async sendSystemMessage(actor: Actor, context: ContextRef, message: SystemMessageBody) {
    await this.spend('send', actor);
    return this.rpc.call(messagesRpc.sendSystem, { actor, context, message });
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
    return this.rpc.call(messagesRpc.delete, { actor, room_id: roomId, message_id: messageId });
  }

  /** Acknowledging spends from the reaction budget: it is the same kind of small write on a message. */
  async acknowledge(actor: Actor, roomId: string, messageId: string) {
    await this.spend('reaction', actor);
    return this.rpc.call(messagesRpc.acknowledge, { actor, room_id: roomId, message_id: messageId });
  }

  /** Reporting spends from the reaction budget too: a small write about a message. */
  async reportMessage(actor: Actor, roomId: string, messageId: string, report: CreateReportBody) {
    await this.spend('reaction', actor);
    return this.rpc.call(messagesRpc.reportMessage, { actor, room_id: roomId, message_id: messageId, report });
  }

  listReports(actor: Actor, query: { status?: ReportStatus; limit?: number; cursor?: string }) {
    return this.rpc.call(messagesRpc.listReports, { actor, ...query });
  }

  updateReport(actor: Actor, reportId: string, status: 'resolved' | 'dismissed') {
    return this.rpc.call(messagesRpc.updateReport, { actor, report_id: reportId, update: { status } });
  }

  acknowledgements(actor: Actor, roomId: string, messageId: string) {
    return this.rpc.call(messagesRpc.acknowledgements, { actor, room_id: roomId, message_id: messageId });
  }

  registerAttachment(actor: Actor, roomId: string, upload: AttachmentUpload) {
    return this.rpc.call(messagesRpc.registerAttachment, { actor, room_id: roomId, upload });
  }

  getAttachment(actor: Actor, attachmentId: string) {
    return this.rpc.call(messagesRpc.getAttachment, { actor, attachment_id: attachmentId });
  }

  async leaseUnreachableBlobs(limit: number, leaseMs: number) {
    return (await this.rpc.call(messagesRpc.leaseUnreachableBlobs, { limit, lease_ms: leaseMs })).blobs;
  }

  async markBlobsDeleted(ids: string[]): Promise<void> {
    await this.rpc.call(messagesRpc.markBlobsDeleted, { ids });
  }

  search(actor: Actor, query: { q: string; room_id?: string | undefined; limit?: number | undefined; cursor?: string | undefined }) {
    return this.rpc.call(messagesRpc.search, { actor, ...query });
  }

  history(actor: Actor, roomId: string, query: HistoryQuery) {
    return this.rpc.call(messagesRpc.history, { actor, room_id: roomId, query });
  }

  async lastSeqs(roomIds: string[]): Promise<Map<string, number>> {
    const { last_seqs } = await this.rpc.call(messagesRpc.lastSeqs, { room_ids: roomIds });
    return new Map(Object.entries(last_seqs));
  }

  async roomLog(roomId: string, afterSeq: number, limit: number): Promise<LoggedEvent[]> {
    const log = await this.rpc.call(messagesRpc.roomLog, { room_id: roomId, after_seq: afterSeq, limit });
    return log.events.map((text, i) => ({ text, replyToSeq: log.reply_to_seqs?.[i] ?? undefined }));
  }

  /**
   * `membershipChecked`: the caller found the actor in the room's current member list. Subscribes
   * of one turn of the loop (a burst of connects or resumes) go to the messages service together.
   */
  sync(actor: Actor, roomId: string, sinceSeq: number | undefined, maxEvents: number, membershipChecked = false): Promise<SyncAnswer> {
    return this.syncs.add({
      actor,
      room_id: roomId,
      since_seq: sinceSeq,
      max_events: maxEvents,
      membership_checked: membershipChecked || undefined,
    });
  }

  private async syncBatch(items: SyncRequest[]): Promise<Array<SyncAnswer | Error>> {
    if (items.length === 1 && items[0]) return [await this.rpc.call(messagesRpc.sync, items[0]).catch((error: Error) => error)];
    const { results } = await this.rpc.call(messagesRpc.syncBatch, { items });
    return Promise.all(
      results.map((result, i) => {
        if (result.status === 'ok') return result.answer;
        if (result.status === 'error') return ChatError.fromBody(result.error);
        // Its replay did not fit beside the others: asked alone.
        return this.rpc.call(messagesRpc.sync, items[i] as SyncRequest).catch((error: Error) => error);
      }),
    );
  }
}
