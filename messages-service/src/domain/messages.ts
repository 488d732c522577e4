import { randomUUID } from 'node:crypto';
import {
  type Attachment,
  ChatError,
  decodeTimeIdCursor,
  encodeTimeIdCursor,
  type Message,
  type Page,
  type SendMessageBody,
} from '@chat/shared';
import type { Actor } from '@chat/shared/auth';
import type { AttachmentUpload, RoomAction } from '@chat/shared/rpc';
import { trace } from '@opentelemetry/api';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import {
  AttachmentTaken,
  applyMessageChange,
  distinctEmojiCount,
  findAttachments,
  findByClientMsgId,
  findMessage,
  findMessages,
  insertAttachment,
  insertMessageWithEvent,
  loadReactionCounts,
  type MessageChange,
  messageExistsInRoom,
  readHistory,
  readLastSeq,
  readSyncWindow,
  searchMessages,
} from '../db/messages-repository.js';
import type { AttachmentRow, MessageRow, MessagesDatabase } from '../db/schema.js';
import { SendBatcher } from '../db/send-batch.js';
import {
  attachmentProblem,
  deriveKind,
  encodeRoomEvent,
  normaliseBody,
  planHistory,
  previewOf,
  summariseReactions,
  toAttachment,
  toMessage,
} from './message-rules.js';

/** The rooms service's one rule set, as this service reaches it. */
export interface RoomAccess {
  authorize(roomId: string, actor: Actor, action: RoomAction): Promise<{ allowed: boolean; member: boolean }>;
  roomIdsOf(userId: string): Promise<string[]>;
  /** Those of `userIds` who are not members of the room. */
  nonMembers(roomId: string, userIds: string[]): Promise<string[]>;
}

export interface MessagesDomainOptions {
  maxBodyChars: number;
  replayMaxEvents: number;
  maxDistinctReactions: number;
  /** Sends stored per transaction at most, and transactions in flight (SendBatcher). */
  sendBatchMax: number;
  sendBatchParallel: number;
}

export class MessagesDomain {
  private readonly batcher: SendBatcher;

  private readonly db: Kysely<MessagesDatabase>;
  /** The pool under `db`, for the few hot statements prepared by name (Kysely sends unnamed ones). */
  private readonly pool: Pick<pg.Pool, 'query'>;

  constructor(
    database: { db: Kysely<MessagesDatabase>; pool: Pick<pg.Pool, 'query'> },
    private readonly rooms: RoomAccess,
    private readonly options: MessagesDomainOptions,
  ) {
    this.db = database.db;
    this.pool = database.pool;
    this.batcher = new SendBatcher(this.pool, { maxBatch: options.sendBatchMax, parallel: options.sendBatchParallel });
  }

  async send(actor: Actor, roomId: string, input: SendMessageBody): Promise<{ message: Message; created: boolean }> {
    const body = normaliseBody(input.body, this.options.maxBodyChars, (input.attachment_ids?.length ?? 0) > 0);
    const attachmentIds = input.attachment_ids ?? [];
    // A plain send's batch leaves out keys that exist, so only a send with attachments (which it
    // could not claim twice) looks for an earlier send first: one query fewer on the hot path.
    if (attachmentIds.length > 0) {
      const earlier = await this.replayOfEarlierSend(actor, roomId, input.client_msg_id);
      if (earlier) return earlier;
    }
    await this.requireAccess(roomId, actor, 'message.send');
    const mentions = [...new Set(input.mentions ?? [])];
    const outsiders = await this.rooms.nonMembers(roomId, mentions);
    if (outsiders.length > 0) {
      throw ChatError.invalid(
        'mentions must be members of the room',
        outsiders.map((id) => ({ path: `mentions.${mentions.indexOf(id)}`, message: `${id} is not a member` })),
      );
    }
    if (input.reply_to && !(await messageExistsInRoom(this.db, input.reply_to, roomId))) {
      throw ChatError.invalid('reply_to is not a message of this room', [{ path: 'reply_to', message: 'not in this room' }]);
    }
    const attachments = await this.resolveAttachments(actor, roomId, attachmentIds);
    const draft = {
      id: randomUUID(),
      room_id: roomId,
      sender_id: actor.user_id,
      sender_name: actor.name,
      client_msg_id: input.client_msg_id,
      kind: deriveKind(attachments),
      body,
      mentions,
      reply_to: input.reply_to ?? null,
      attachments,
    };
    const encode = (stored: MessageRow) => encodeRoomEvent('message.created', stored.seq, toMessage(stored));
    // Plain sends are batched; a send with attachments claims them alone, so a clash fails only itself.
    const row =
      attachments.length === 0
        ? await this.batcher.store(draft, encode)
        : await insertMessageWithEvent(this.db, draft, encode).catch((error: unknown) => {
            if (error instanceof AttachmentTaken)
              throw new ChatError('conflict', 'an attachment was used by another message at the same time');
            throw error;
          });
    if (row) {
      trace.getActiveSpan()?.setAttribute('chat.message_id', row.id);
      return { message: toMessage(row), created: true };
    }
    // A concurrent send with the same key won the race; answer with its message.
    const winner = await this.replayOfEarlierSend(actor, roomId, input.client_msg_id);
    if (!winner) throw new ChatError('internal', 'idempotent send lost its first message');
    return winner;
  }

  async history(
    actor: Actor,
    roomId: string,
    query: { before_seq?: number | undefined; after_seq?: number | undefined; limit?: number | undefined },
  ): Promise<Page<Message>> {
    const plan = planHistory(query);
    await this.requireAccess(roomId, actor, 'room.read');
    const { rows, more } = await readHistory(this.db, roomId, plan);
    const counts = await loadReactionCounts(
      this.db,
      rows.map((r) => r.id),
      actor.user_id,
    );
    const edge = plan.direction === 'older' ? rows[0] : rows.at(-1);
    return {
      items: rows.map((r) => toMessage(r, summariseReactions(counts, r.id, true))),
      next_cursor: more && edge ? String(edge.seq) : null,
    };
  }

  /** Records an upload the gateway has stored; it can then go into one message of its uploader. */
  async registerAttachment(actor: Actor, roomId: string, upload: AttachmentUpload): Promise<Attachment> {
    await this.requireAccess(roomId, actor, 'message.send');
    const row = { ...upload, room_id: roomId, uploader_id: actor.user_id, width: upload.width ?? null, height: upload.height ?? null };
    await insertAttachment(this.db, row);
    return toAttachment({ ...row, message_id: null, created_at: new Date(), deleted_at: null });
  }

  /** An attachment for download: members of its room only, and gone once its message is deleted. */
  async getAttachment(actor: Actor, attachmentId: string): Promise<{ attachment: Attachment; storage_key: string }> {
    const [row] = await findAttachments(this.db, [attachmentId]);
    if (!row || row.deleted_at !== null) throw ChatError.notFound('attachment');
    const decision = await this.rooms.authorize(row.room_id, actor, 'room.read');
    if (!decision.allowed) throw ChatError.notFound('attachment');
    return { attachment: toAttachment(row), storage_key: row.storage_key };
  }

  private async resolveAttachments(actor: Actor, roomId: string, ids: string[]): Promise<Attachment[]> {
    const unique = [...new Set(ids)];
    const rows = await findAttachments(this.db, unique);
    const byId = new Map(rows.map((r) => [r.id, r]));
    const problems = unique.flatMap((id, i) => {
      const problem = attachmentProblem(byId.get(id), roomId, actor.user_id);
      return problem ? [{ path: `attachment_ids.${i}`, message: problem }] : [];
    });
    if (problems.length > 0) throw ChatError.invalid(`attachment ${problems[0]?.message}`, problems);
    return unique.map((id) => toAttachment(byId.get(id) as AttachmentRow));
  }

  /** The sender edits their own message, until it is deleted. */
  async edit(actor: Actor, roomId: string, messageId: string, body: string): Promise<Message> {
    const normalised = normaliseBody(body, this.options.maxBodyChars);
    await this.requireAccess(roomId, actor, 'message.send');
    return this.change(actor, roomId, messageId, { kind: 'edit', body: normalised }, (current) => {
      if (current.sender_id !== actor.user_id) throw ChatError.forbidden('only the sender edits a message');
      if (current.deleted_at !== null) throw new ChatError('conflict', 'a deleted message cannot be edited');
    });
  }

  /** The sender deletes their own message; room owners/admins and moderators delete any. */
  async delete(actor: Actor, roomId: string, messageId: string): Promise<Message> {
    const existing = await findMessage(this.db, roomId, messageId);
    const own = existing?.sender_id === actor.user_id;
    const decision = await this.rooms.authorize(roomId, actor, own ? 'message.send' : 'message.moderate');
    if (!decision.allowed) {
      if (!decision.member) throw ChatError.notFound('room');
      throw ChatError.forbidden(
        own ? 'not allowed to delete in this room' : 'only the sender, a room owner or admin, or a moderator deletes a message',
      );
    }
    return this.change(actor, roomId, messageId, { kind: 'delete' }, () => undefined);
  }

  /** One reaction per user and emoji; adding it twice or removing an absent one changes nothing. */
  async react(actor: Actor, roomId: string, messageId: string, emoji: string, action: 'added' | 'removed'): Promise<Message> {
    await this.requireAccess(roomId, actor, 'message.send');
    if (action === 'added' && (await distinctEmojiCount(this.db, messageId)) >= this.options.maxDistinctReactions) {
      throw ChatError.invalid(`a message holds at most ${this.options.maxDistinctReactions} different reactions`, [
        { path: 'emoji', message: 'too many reactions' },
      ]);
    }
    return this.change(actor, roomId, messageId, { kind: 'reaction', userId: actor.user_id, emoji, action }, (current) => {
      if (current.deleted_at !== null) throw new ChatError('conflict', 'a deleted message takes no reactions');
    });
  }

  private async change(
    actor: Actor,
    roomId: string,
    messageId: string,
    change: MessageChange,
    check: (current: MessageRow) => void,
  ): Promise<Message> {
    const extra = change.kind === 'reaction' ? { user_id: change.userId, emoji: change.emoji, action: change.action } : {};
    const type = change.kind === 'edit' ? 'message.updated' : change.kind === 'delete' ? 'message.deleted' : 'reaction.updated';
    const result = await applyMessageChange(this.db, roomId, messageId, change, check, (row, counts, seq) =>
      encodeRoomEvent(type, seq, toMessage(row, summariseReactions(counts, row.id, false)), extra),
    );
    if (!result) throw ChatError.notFound('message');
    return this.withReactions(result.row, actor);
  }

  /** A message as one viewer sees it: reactions with `me`. */
  private async withReactions(row: MessageRow, viewer: Actor): Promise<Message> {
    const counts = await loadReactionCounts(this.db, [row.id], viewer.user_id);
    return toMessage(row, summariseReactions(counts, row.id, true));
  }

  /** Full-text and partial-word search over the rooms the actor is in (or one of them), newest first. */
  async search(
    actor: Actor,
    query: { q: string; room_id?: string | undefined; limit: number; cursor?: string | undefined },
  ): Promise<Page<Message>> {
    const q = query.q.trim();
    if (q.length === 0) throw ChatError.invalid('q must not be blank', [{ path: 'q', message: 'must not be blank' }]);
    const after = query.cursor === undefined ? undefined : decodeTimeIdCursor(query.cursor);
    if (after === null) throw ChatError.invalid('invalid cursor', [{ path: 'cursor', message: 'not a cursor this API returned' }]);
    let roomIds: string[];
    if (query.room_id) {
      await this.requireAccess(query.room_id, actor, 'room.read');
      roomIds = [query.room_id];
    } else {
      roomIds = await this.rooms.roomIdsOf(actor.user_id);
    }
    const rows = await searchMessages(this.db, roomIds, q, query.limit + 1, after);
    const page = rows.slice(0, query.limit);
    const counts = await loadReactionCounts(
      this.db,
      page.map((r) => r.id),
      actor.user_id,
    );
    const last = page.at(-1);
    return {
      items: page.map((r) => toMessage(r, summariseReactions(counts, r.id, true))),
      next_cursor: rows.length > query.limit && last ? encodeTimeIdCursor({ micros: last.created_micros, id: last.id }) : null,
    };
  }

  /** For push re-checks by the notifier (a trusted internal caller): no actor, no membership check. */
  async messageStates(roomId: string, messageIds: string[]) {
    const rows = await findMessages(this.db, roomId, messageIds);
    return {
      messages: rows.map((r) => ({
        id: r.id,
        seq: r.seq,
        sender_id: r.sender_id,
        sender_name: r.sender_name,
        kind: r.kind,
        deleted: r.deleted_at !== null,
        mentions: r.mentions,
        preview: previewOf(r),
      })),
    };
  }

  async lastSeq(roomId: string): Promise<number> {
    return readLastSeq(this.db, roomId);
  }

  async getMessage(actor: Actor, roomId: string, messageId: string): Promise<Message> {
    await this.requireAccess(roomId, actor, 'room.read');
    const row = await findMessage(this.db, roomId, messageId);
    if (!row) throw ChatError.notFound('message');
    return this.withReactions(row, actor);
  }

  async sync(actor: Actor, roomId: string, sinceSeq: number | undefined, maxEvents: number, membershipChecked = false) {
    if (!membershipChecked) await this.requireAccess(roomId, actor, 'room.read');
    const window = await readSyncWindow(this.pool, roomId, sinceSeq, Math.min(maxEvents, this.options.replayMaxEvents));
    if (sinceSeq !== undefined && sinceSeq > window.lastSeq) {
      throw ChatError.invalid(`since_seq is beyond the room's last seq (${window.lastSeq})`, [
        { path: 'since_seq', message: 'beyond last seq' },
      ]);
    }
    return { last_seq: window.lastSeq, events: window.events, all_published: window.allPublished };
  }

  /** The same key from the same user returns the first message; reusing it in another room is a conflict. */
  private async replayOfEarlierSend(actor: Actor, roomId: string, clientMsgId: string) {
    const existing = await findByClientMsgId(this.db, actor.user_id, clientMsgId);
    if (!existing) return undefined;
    if (existing.room_id !== roomId) {
      throw new ChatError('conflict', 'client_msg_id was already used for a message in another room');
    }
    return { message: await this.withReactions(existing, actor), created: false };
  }

  /** Non-members learn nothing, not even that the room exists. */
  private async requireAccess(roomId: string, actor: Actor, action: RoomAction): Promise<void> {
    const decision = await this.rooms.authorize(roomId, actor, action);
    if (!decision.member) throw ChatError.notFound('room');
    if (!decision.allowed) throw ChatError.forbidden(`not allowed: ${action}`);
  }
}
