import {
  type Attachment,
  ChatError,
  type ContextRef,
  decodeTimeIdCursor,
  encodeTimeIdCursor,
  isChatError,
  type Message,
  type Page,
  replyToOfEvent,
  type SendMessageBody,
  type SystemMessageBody,
  visibleEvent,
} from '@chat/shared';
import { type Actor, isService } from '@chat/shared/auth';
import {
  type AttachmentUpload,
  type RoomAction,
  type SyncAnswer,
  type SyncRequest,
  type SyncResult,
  thumbnailKeyOf,
} from '@chat/shared/rpc';
import { trace } from '@opentelemetry/api';
import {
  AttachmentTaken,
  acknowledgementProblem,
  attachmentProblem,
  deriveKind,
  draftMessage,
  encodeCreated,
  encodeRoomEvent,
  normaliseBody,
  planHistory,
  previewOf,
  summariseReactions,
  ThreadRootRefused,
  threadSummaryOf,
  toAttachment,
  toMessage,
} from './message-rules.js';
import type { MessageChange, MessageStore } from './ports.js';
import type { AttachmentRow, MessageRow } from './rows.js';

/**
 * Replayed event text one `sync_batch` answer carries at most (characters, about bytes: events are
 * mostly ASCII JSON), far below NATS's 1 MB payload limit.
 */
const SYNC_BATCH_REPLAY_CHARS = 256 * 1024;

/** What the rooms service decided, and the room facts a refusal is explained by. */
export interface RoomAccessAnswer {
  allowed: boolean;
  member: boolean;
  /** The room is closed (read-only): writes are refused as a conflict. */
  closed: boolean;
  /** Joined history: the member sees only events after this seq (0: the whole history). */
  visible_from_seq: number;
}

/** The rooms service's one rule set, as this service reaches it. */
export interface RoomAccess {
  authorize(roomId: string, actor: Actor, action: RoomAction): Promise<RoomAccessAnswer>;
  /** The user's rooms, each with where their view of it starts (joined history; else 0). */
  roomsOf(userId: string): Promise<Array<{ room_id: string; visible_from_seq: number }>>;
  /** Those of `userIds` who are not members of the room. */
  nonMembers(roomId: string, userIds: string[]): Promise<string[]>;
  /** The room's members now (the recipients of an acknowledgement request). */
  memberIds(roomId: string): Promise<string[]>;
  /** The room of a host object, for its service token (forbidden / not_found otherwise). */
  contextRoom(actor: Actor, context: ContextRef): Promise<{ room_id: string; closed: boolean }>;
}

const DAY_MS = 24 * 60 * 60 * 1000;

const closedRoom = () => new ChatError('conflict', 'the room is closed: it can be read but not written to');

export interface MessagesDomainOptions {
  /** Bytes one user may upload in any 24 hours (unset: no quota). */
  attachmentQuotaBytesPerDay?: number;
  maxBodyChars: number;
  replayMaxEvents: number;
  maxDistinctReactions: number;
  /**
   * Resolves once what was sent before the call is in the search documents (or it waited long
   * enough): the search indexer writes them off the send path, and a search must still find a
   * message its sender was just told is stored. Without it searches read what is indexed.
   */
  searchIndexCaughtUp?: () => Promise<unknown>;
}

export class MessagesDomain {
  constructor(
    private readonly store: MessageStore,
    private readonly rooms: RoomAccess,
    private readonly options: MessagesDomainOptions,
  ) {}

  async send(actor: Actor, roomId: string, input: SendMessageBody): Promise<{ message: Message; created: boolean }> {
    const body = normaliseBody(input.body, this.options.maxBodyChars, (input.attachment_ids?.length ?? 0) > 0);
    const attachmentIds = input.attachment_ids ?? [];
    // A plain send's batch leaves out keys that exist, so only a send with attachments (which it
    // could not claim twice) looks for an earlier send first: one query fewer on the hot path.
    if (attachmentIds.length > 0) {
      const earlier = await this.replayOfEarlierSend(actor, roomId, input.client_msg_id);
      if (earlier) return earlier;
    }
    const priority = input.priority ?? 'normal';
    const ackRequested = input.ack_requested ?? false;
    // Urgent messages and acknowledgement requests are for those who run the room (DESIGN 10.2).
    const special = priority === 'urgent' || ackRequested;
    const access = await this.requireAccess(roomId, actor, special ? 'message.send_urgent' : 'message.send');
    const mentions = [...new Set(input.mentions ?? [])];
    const outsiders = await this.rooms.nonMembers(roomId, mentions);
    if (outsiders.length > 0) {
      throw ChatError.invalid(
        'mentions must be members of the room',
        outsiders.map((id) => ({ path: `mentions.${mentions.indexOf(id)}`, message: `${id} is not a member` })),
      );
    }
    let replyToSeq: number | undefined;
    if (input.reply_to) {
      // A message from before a late joiner joined (joined history) does not exist for them.
      replyToSeq = await this.store.findMessageSeq(input.reply_to, roomId);
      if (replyToSeq === undefined || replyToSeq <= access.visible_from_seq) {
        throw ChatError.invalid('reply_to is not a message of this room', [{ path: 'reply_to', message: 'not in this room' }]);
      }
    }
    const attachments = await this.resolveAttachments(actor, roomId, attachmentIds);
    const draft = draftMessage(actor, roomId, input.client_msg_id, {
      kind: deriveKind(attachments),
      body,
      mentions,
      reply_to: input.reply_to ?? null,
      thread_root_id: input.thread_root_id ?? null,
      attachments,
      priority,
      ack_requested: ackRequested,
    });
    // Who is asked to acknowledge: the members now, less the sender (one lookup, only for such sends).
    const recipients = ackRequested ? (await this.rooms.memberIds(roomId)).filter((id) => id !== actor.user_id) : [];
    // Plain sends are batched (the hot path, unchanged); a send with attachments claims them alone,
    // so a clash fails only itself, and urgent or acknowledgement-requesting sends (rare) go alone
    // too, with their own columns and recipient set. Either way a thread root is checked in the write.
    const row = await (attachments.length === 0 && !special
      ? this.store.storeBatched(draft, encodeCreated, access.visible_from_seq, replyToSeq)
      : this.store.insertMessageWithEvent(draft, encodeCreated, recipients, access.visible_from_seq)
    ).catch((error: unknown) => {
      if (error instanceof AttachmentTaken) throw new ChatError('conflict', 'an attachment was used by another message at the same time');
      if (error instanceof ThreadRootRefused) {
        throw ChatError.unprocessable('thread_root_id is not a top-level message of this room', [
          { path: 'thread_root_id', message: 'not a message of this room, or itself a thread reply' },
        ]);
      }
      throw error;
    });
    return this.answerSend(row, actor, roomId, input.client_msg_id);
  }

  /**
   * A host application's message into the room of one of its objects (DESIGN 10.4): kind
   * `system`, from the service token's sub and name, through the same batched, idempotent store
   * as any send, so it is unread, pushed and published like one.
   */
  async sendSystem(actor: Actor, context: ContextRef, input: SystemMessageBody): Promise<{ message: Message; created: boolean }> {
    if (!isService(actor)) throw ChatError.forbidden('only a service token posts system messages');
    const body = normaliseBody(input.body, this.options.maxBodyChars);
    const { room_id: roomId, closed } = await this.rooms.contextRoom(actor, context);
    if (closed) {
      // A retry of a message stored before the room closed still gets its message back.
      const earlier = await this.replayOfEarlierSend(actor, roomId, input.client_msg_id);
      if (earlier) return earlier;
      throw closedRoom();
    }
    const priority = input.priority ?? 'normal';
    const ackRequested = input.ack_requested ?? false;
    const draft = draftMessage(actor, roomId, input.client_msg_id, {
      kind: 'system',
      body,
      mentions: [],
      reply_to: null,
      thread_root_id: null,
      attachments: [],
      priority,
      ack_requested: ackRequested,
    });
    // The host is not a member: everyone in the room is asked to acknowledge.
    const recipients = ackRequested ? await this.rooms.memberIds(roomId) : [];
    const row =
      priority === 'normal' && !ackRequested
        ? await this.store.storeBatched(draft, encodeCreated)
        : await this.store.insertMessageWithEvent(draft, encodeCreated, recipients);
    return this.answerSend(row, actor, roomId, input.client_msg_id);
  }

  /** The stored message (created), or, when a concurrent send with the same key won the race, its message. */
  private async answerSend(
    row: MessageRow | undefined,
    actor: Actor,
    roomId: string,
    clientMsgId: string,
  ): Promise<{ message: Message; created: boolean }> {
    if (row) {
      trace.getActiveSpan()?.setAttribute('chat.message_id', row.id);
      // The sender never acknowledges their own message; a message just stored has no replies yet.
      return { message: toMessage(row, [], false, null), created: true };
    }
    const winner = await this.replayOfEarlierSend(actor, roomId, clientMsgId);
    if (!winner) throw new ChatError('internal', 'idempotent send lost its first message');
    return winner;
  }

  async history(
    actor: Actor,
    roomId: string,
    query: {
      before_seq?: number | undefined;
      after_seq?: number | undefined;
      limit?: number | undefined;
      thread_root_id?: string | undefined;
      top_level?: boolean | undefined;
    },
  ): Promise<Page<Message>> {
    const plan = planHistory(query);
    const access = await this.requireAccess(roomId, actor, 'room.read');
    const { rows, more } = await this.store.readHistory(roomId, plan, access.visible_from_seq);
    await this.hideEarlierReplies(roomId, rows, access.visible_from_seq);
    const edge = plan.direction === 'older' ? rows[0] : rows.at(-1);
    return {
      items: await this.viewedBy(rows, actor),
      next_cursor: more && edge ? String(edge.seq) : null,
    };
  }

  /** Records an upload the gateway has stored; it can then go into one message of its uploader. */
  async registerAttachment(actor: Actor, roomId: string, upload: AttachmentUpload): Promise<Attachment> {
    await this.requireAccess(roomId, actor, 'message.send');
    const quota = this.options.attachmentQuotaBytesPerDay;
    if (quota !== undefined) {
      const usage = await this.store.uploadedInLastDay(actor.user_id);
      if (usage.bytes + upload.size > quota) {
        // The window frees up as the oldest upload of the last day ages out.
        const retryAfterMs = usage.oldest ? Math.max(1000, usage.oldest.getTime() + DAY_MS - Date.now()) : DAY_MS;
        throw new ChatError('rate_limited', `upload quota of ${quota} bytes per day reached`, undefined, retryAfterMs);
      }
    }
    const { thumbnail, ...file } = upload;
    const row = {
      ...file,
      room_id: roomId,
      uploader_id: actor.user_id,
      width: upload.width ?? null,
      height: upload.height ?? null,
      thumbnail_content_type: thumbnail?.content_type ?? null,
      thumbnail_size: thumbnail?.size ?? null,
      thumbnail_width: thumbnail?.width ?? null,
      thumbnail_height: thumbnail?.height ?? null,
    };
    await this.store.insertAttachment(row);
    return toAttachment({ ...row, message_id: null, created_at: new Date(), deleted_at: null, sweep_until: null, blob_deleted_at: null });
  }

  /** An attachment for download: members of its room only, and gone once its message is deleted. */
  async getAttachment(
    actor: Actor,
    attachmentId: string,
  ): Promise<{
    attachment: Attachment;
    storage_key: string;
    thumbnail: { storage_key: string; content_type: string; size: number } | null;
  }> {
    const [row] = await this.store.findAttachments([attachmentId]);
    if (!row || row.deleted_at !== null) throw ChatError.notFound('attachment');
    const decision = await this.rooms.authorize(row.room_id, actor, 'room.read');
    if (!decision.allowed) throw ChatError.notFound('attachment');
    if (decision.visible_from_seq > 0) {
      // Joined history: files of messages from before the reader joined do not exist for them,
      // nor do others' uploads not yet sent (they may predate the joining too).
      const seq = row.message_id ? await this.store.findMessageSeq(row.message_id, row.room_id) : undefined;
      const visible = row.message_id ? seq !== undefined && seq > decision.visible_from_seq : row.uploader_id === actor.user_id;
      if (!visible) throw ChatError.notFound('attachment');
    }
    const thumbnail =
      row.thumbnail_content_type !== null && row.thumbnail_size !== null
        ? { storage_key: thumbnailKeyOf(row.storage_key), content_type: row.thumbnail_content_type, size: row.thumbnail_size }
        : null;
    return { attachment: toAttachment(row), storage_key: row.storage_key, thumbnail };
  }

  private async resolveAttachments(actor: Actor, roomId: string, ids: string[]): Promise<Attachment[]> {
    const unique = [...new Set(ids)];
    const rows = await this.store.findAttachments(unique);
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
    const access = await this.requireAccess(roomId, actor, 'message.send');
    return this.change(actor, roomId, messageId, access.visible_from_seq, { kind: 'edit', body: normalised }, (current) => {
      if (current.sender_id !== actor.user_id) throw ChatError.forbidden('only the sender edits a message');
      if (current.deleted_at !== null) throw new ChatError('conflict', 'a deleted message cannot be edited');
    });
  }

  /** The sender deletes their own message; room owners/admins and moderators delete any. */
  async delete(actor: Actor, roomId: string, messageId: string): Promise<Message> {
    const existing = await this.store.findMessage(roomId, messageId);
    const own = existing?.sender_id === actor.user_id;
    const decision = await this.rooms.authorize(roomId, actor, own ? 'message.send' : 'message.moderate');
    if (!decision.allowed) {
      if (!decision.member) throw ChatError.notFound('room');
      throw ChatError.forbidden(
        own ? 'not allowed to delete in this room' : 'only the sender, a room owner or admin, or a moderator deletes a message',
      );
    }
    return this.change(actor, roomId, messageId, decision.visible_from_seq, { kind: 'delete' }, () => undefined);
  }

  /** One reaction per user and emoji; adding it twice or removing an absent one changes nothing. */
  async react(actor: Actor, roomId: string, messageId: string, emoji: string, action: 'added' | 'removed'): Promise<Message> {
    const access = await this.requireAccess(roomId, actor, 'message.send');
    if (action === 'added' && (await this.store.distinctEmojiCount(messageId)) >= this.options.maxDistinctReactions) {
      throw ChatError.invalid(`a message holds at most ${this.options.maxDistinctReactions} different reactions`, [
        { path: 'emoji', message: 'too many reactions' },
      ]);
    }
    const reaction: MessageChange = { kind: 'reaction', userId: actor.user_id, emoji, action };
    return this.change(actor, roomId, messageId, access.visible_from_seq, reaction, (current) => {
      if (current.deleted_at !== null) throw new ChatError('conflict', 'a deleted message takes no reactions');
    });
  }

  private async change(
    actor: Actor,
    roomId: string,
    messageId: string,
    visibleFromSeq: number,
    change: MessageChange,
    check: (current: MessageRow) => void,
  ): Promise<Message> {
    const extra =
      change.kind === 'reaction'
        ? { user_id: change.userId, emoji: change.emoji, action: change.action }
        : change.kind === 'acknowledge'
          ? { user_id: change.userId }
          : {};
    const type = (
      { edit: 'message.updated', delete: 'message.deleted', reaction: 'reaction.updated', acknowledge: 'message.acknowledged' } as const
    )[change.kind];
    const guarded = (current: MessageRow) => {
      // Joined history: a message from before the actor joined does not exist for them.
      if (current.seq <= visibleFromSeq) throw ChatError.notFound('message');
      check(current);
    };
    const result = await this.store.applyMessageChange(roomId, messageId, change, guarded, (row, counts, seq) =>
      encodeRoomEvent(type, seq, toMessage(row, summariseReactions(counts, row.id, false)), extra),
    );
    if (!result) throw ChatError.notFound('message');
    return this.withReactions(result.row, actor, visibleFromSeq);
  }

  /** A message as one viewer sees it: reactions and acknowledgements with `me`, its thread's summary, no reply_to they may not see. */
  private async withReactions(row: MessageRow, viewer: Actor, visibleFromSeq = 0): Promise<Message> {
    await this.hideEarlierReplies(row.room_id, [row], visibleFromSeq);
    const [message] = await this.viewedBy([row], viewer);
    return message as Message;
  }

  /**
   * Messages as one viewer sees them (acks and REST): reactions with `me`, acknowledgements looked
   * up only for messages that ask for them, thread summaries on top-level messages.
   */
  private async viewedBy(rows: MessageRow[], viewer: Actor): Promise<Message[]> {
    const asking = rows.filter((r) => r.ack_requested && r.ack_count > 0).map((r) => r.id);
    const [counts, acknowledged, threads] = await Promise.all([
      this.store.loadReactionCounts(
        rows.map((r) => r.id),
        viewer.user_id,
      ),
      this.store.acknowledgedBy(asking, viewer.user_id),
      this.store.loadThreadSummaries(rows.filter((r) => r.thread_root_id === null).map((r) => r.id)),
    ]);
    return rows.map((r) => toMessage(r, summariseReactions(counts, r.id, true), acknowledged.has(r.id), threadSummaryOf(threads, r.id)));
  }

  /**
   * A member records that they have seen a message that asked for it (DESIGN 10.2). The first time
   * is a `message.acknowledged` event with its own seq; a repeat returns the message and writes nothing.
   */
  async acknowledge(actor: Actor, roomId: string, messageId: string): Promise<Message> {
    const access = await this.requireAccess(roomId, actor, 'message.send');
    const acknowledgement: MessageChange = { kind: 'acknowledge', userId: actor.user_id, name: actor.name };
    return this.change(actor, roomId, messageId, access.visible_from_seq, acknowledgement, (current) => {
      const problem = acknowledgementProblem(current, actor.user_id);
      if (problem) throw new ChatError('conflict', problem);
    });
  }

  /** Who acknowledged (first first) and who of the members at send time, less the sender, has not. */
  async acknowledgements(actor: Actor, roomId: string, messageId: string) {
    const access = await this.requireAccess(roomId, actor, 'room.read');
    const row = await this.store.findMessage(roomId, messageId);
    // Joined history: a message from before the reader joined does not exist for them.
    if (!row || row.seq <= access.visible_from_seq) throw ChatError.notFound('message');
    const { items, pending } = await this.store.readAcknowledgements(messageId);
    return { items: items.map((i) => ({ ...i, acknowledged_at: new Date(i.acknowledged_at).toISOString() })), pending };
  }

  /**
   * Joined history: a reply to a message from before the reader joined shows no `reply_to`, as if
   * the target did not exist. Changes the rows in place; costs nothing under shared history.
   */
  private async hideEarlierReplies(roomId: string, rows: MessageRow[], visibleFromSeq: number): Promise<void> {
    if (visibleFromSeq === 0) return;
    const targets = [...new Set(rows.flatMap((r) => (r.reply_to ? [r.reply_to] : [])))];
    if (targets.length === 0) return;
    const seqs = await this.store.findMessageSeqs(roomId, targets);
    for (const row of rows) {
      const seq = row.reply_to ? seqs.get(row.reply_to) : undefined;
      if (row.reply_to && (seq === undefined || seq <= visibleFromSeq)) row.reply_to = null;
    }
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
    let rooms: Array<{ room_id: string; visible_from_seq: number }>;
    if (query.room_id) {
      const access = await this.requireAccess(query.room_id, actor, 'room.read');
      rooms = [{ room_id: query.room_id, visible_from_seq: access.visible_from_seq }];
    } else {
      rooms = await this.rooms.roomsOf(actor.user_id);
    }
    const visibleFrom = new Map(rooms.map((r) => [r.room_id, r.visible_from_seq]));
    await this.options.searchIndexCaughtUp?.();
    const rows = await this.store.searchMessages(
      rooms.map((r) => r.room_id),
      q,
      query.limit + 1,
      after,
      visibleFrom,
    );
    const page = rows.slice(0, query.limit);
    for (const [roomId, from] of visibleFrom) {
      if (from > 0)
        await this.hideEarlierReplies(
          roomId,
          page.filter((r) => r.room_id === roomId),
          from,
        );
    }
    const last = page.at(-1);
    return {
      items: await this.viewedBy(page, actor),
      next_cursor: rows.length > query.limit && last ? encodeTimeIdCursor({ micros: last.created_micros, id: last.id }) : null,
    };
  }

  /** For push re-checks by the notifier (a trusted internal caller): no actor, no membership check. */
  async messageStates(roomId: string, messageIds: string[]) {
    const rows = await this.store.findMessages(roomId, messageIds);
    const pending = await this.store.pendingAcknowledgements(rows.filter((r) => r.ack_requested).map((r) => r.id));
    const rootIds = [...new Set(rows.flatMap((r) => (r.thread_root_id ? [r.thread_root_id] : [])))];
    const participants = await this.store.loadThreadParticipants(rootIds);
    return {
      messages: rows.map((r) => ({
        id: r.id,
        seq: r.seq,
        sender_id: r.sender_id,
        sender_name: r.sender_name,
        kind: r.kind,
        deleted: r.deleted_at !== null,
        mentions: r.mentions,
        thread_root_id: r.thread_root_id,
        // A thread's root author and repliers hear of its replies as if mentioned (DESIGN 10.5).
        thread_participants: r.thread_root_id ? (participants.get(r.thread_root_id) ?? []) : [],
        preview: previewOf(r),
        priority: r.priority,
        ack_requested: r.ack_requested,
        ack_pending: r.ack_requested ? (pending.get(r.id) ?? []) : null,
      })),
    };
  }

  async lastSeq(roomId: string): Promise<number> {
    return this.store.readLastSeq(roomId);
  }

  async lastSeqs(roomIds: string[]): Promise<Record<string, number>> {
    const found = await this.store.readLastSeqs(roomIds);
    return Object.fromEntries(roomIds.map((id) => [id, found.get(id) ?? 0]));
  }

  roomLog(roomId: string, afterSeq: number, limit: number): Promise<Array<{ event: string; reply_to_seq: number | null }>> {
    return this.store.readRoomLog(roomId, afterSeq, limit);
  }

  async getMessage(actor: Actor, roomId: string, messageId: string): Promise<Message> {
    const access = await this.requireAccess(roomId, actor, 'room.read');
    const row = await this.store.findMessage(roomId, messageId);
    if (!row || row.seq <= access.visible_from_seq) throw ChatError.notFound('message');
    return this.withReactions(row, actor, access.visible_from_seq);
  }

  async sync(request: SyncRequest): Promise<SyncAnswer> {
    const [result] = await this.syncBatch([request]);
    if (result?.status === 'ok') return result.answer;
    throw result?.status === 'error' ? ChatError.fromBody(result.error) : new ChatError('internal', 'sync answered nothing');
  }

  /**
   * Subscribes in a burst answered from one read of the store. Replayed events fill the answer
   * up to SYNC_BATCH_REPLAY_CHARS; an item past that is `deferred`, for the caller to ask alone.
   */
  async syncBatch(requests: SyncRequest[]): Promise<SyncResult[]> {
    // A gateway checks membership only for rooms of shared history; joined history needs the member's start.
    const starts = await Promise.all(
      requests.map(async (request) => {
        if (request.membership_checked) return 0;
        try {
          return (await this.requireAccess(request.room_id, request.actor, 'room.read')).visible_from_seq;
        } catch (error) {
          if (isChatError(error)) return error;
          throw error;
        }
      }),
    );
    const readable = requests.flatMap((request, i) => {
      const visibleFrom = starts[i];
      if (typeof visibleFrom !== 'number') return [];
      // Joined history: a replay from before the member joined begins where they joined, with no resync.
      const from = request.since_seq === undefined ? undefined : Math.max(request.since_seq, visibleFrom);
      return [
        {
          index: i,
          visibleFrom,
          roomId: request.room_id,
          sinceSeq: from,
          maxEvents: Math.min(request.max_events, this.options.replayMaxEvents),
        },
      ];
    });
    const windows = await this.store.readSyncWindows(readable);
    const results: SyncResult[] = starts.map((start) =>
      typeof start === 'number' ? { status: 'deferred' } : { status: 'error', error: start.toEnvelopeBody() },
    );
    let replayChars = 0;
    for (const [k, read] of readable.entries()) {
      const window = windows[k];
      const request = requests[read.index];
      if (!window || !request) continue;
      if (request.since_seq !== undefined && request.since_seq > window.lastSeq) {
        const error = ChatError.invalid(`since_seq is beyond the room's last seq (${window.lastSeq})`, [
          { path: 'since_seq', message: 'beyond last seq' },
        ]);
        results[read.index] = { status: 'error', error: error.toEnvelopeBody() };
        continue;
      }
      const chars = window.events?.reduce((sum, event) => sum + event.length, 0) ?? 0;
      // The first replay always fits: alone, an item is answered as `sync` would answer it.
      if (replayChars > 0 && replayChars + chars > SYNC_BATCH_REPLAY_CHARS) continue;
      replayChars += chars;
      const events =
        read.visibleFrom > 0 && window.events ? await this.visibleEvents(read.roomId, window.events, read.visibleFrom) : window.events;
      results[read.index] = {
        status: 'ok',
        answer: {
          last_seq: window.lastSeq,
          events,
          all_published: window.allPublished,
          ...(read.visibleFrom > 0 ? { visible_from_seq: read.visibleFrom } : {}),
        },
      };
    }
    return results;
  }

  /** Replayed events as a late joiner may see them: stand-ins for earlier ones, no `reply_to` to an earlier message. */
  private async visibleEvents(roomId: string, events: string[], visibleFrom: number): Promise<string[]> {
    const targetOf = events.map(replyToOfEvent);
    const targets = [...new Set(targetOf.filter((id): id is string => id !== undefined))];
    const seqs = targets.length ? await this.store.findMessageSeqs(roomId, targets) : new Map<string, number>();
    return events.map((event, i) => {
      const target = targetOf[i];
      // A target not found (cannot happen: reply_to is checked at send) is hidden like an earlier one.
      return visibleEvent(event, visibleFrom, target === undefined ? undefined : (seqs.get(target) ?? 0));
    });
  }

  /** The same key from the same user returns the first message; reusing it in another room is a conflict. */
  private async replayOfEarlierSend(actor: Actor, roomId: string, clientMsgId: string) {
    const existing = await this.store.findByClientMsgId(actor.user_id, clientMsgId);
    if (!existing) return undefined;
    if (existing.room_id !== roomId) {
      throw new ChatError('conflict', 'client_msg_id was already used for a message in another room');
    }
    return { message: await this.withReactions(existing, actor), created: false };
  }

  /**
   * Refuses a write in a closed room with 409 conflict (DESIGN 10.3), from the same cached answer
   * the other checks use, so it costs no round trip of its own on a busy room. For writes that
   * any member may do (acknowledgements): `requireAccess(…, 'message.send')` covers sends, edits
   * and reactions already.
   */
  async requireOpenRoom(roomId: string, actor: Actor): Promise<void> {
    const decision = await this.requireAccess(roomId, actor, 'room.read');
    if (decision.closed) throw closedRoom();
  }

  /** Non-members learn nothing, not even that the room exists. */
  private async requireAccess(roomId: string, actor: Actor, action: RoomAction): Promise<RoomAccessAnswer> {
    const decision = await this.rooms.authorize(roomId, actor, action);
    if (!decision.member) throw ChatError.notFound('room');
    if (!decision.allowed) {
      if (decision.closed && (action === 'message.send' || action === 'message.send_urgent')) throw closedRoom();
      throw ChatError.forbidden(`not allowed: ${action}`);
    }
    return decision;
  }
}
