import {
  ChatError,
  type ContextRef,
  decodeTimeIdCursor,
  encodeTimeIdCursor,
  type Message,
  type Page,
  type SendMessageBody,
  type SystemMessageBody,
} from '@chat/shared';
import { type Actor, isService } from '@chat/shared/auth';
import { trace } from '@opentelemetry/api';
import { resolveAttachments } from './attachments.js';
import {
  AttachmentTaken,
  acknowledgementProblem,
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
  toMessage,
} from './message-rules.js';
import type { MessageChange, MessageStore } from './ports.js';
import { closedRoom, type RoomAccess, requireAccess } from './room-access.js';
import type { MessageRow } from './rows.js';

/**
 * Messages as members send, change and read them. Where rooms stand and what a resuming
 * subscriber missed is room-sync.ts; uploads are attachments.ts; the rooms service's verdict is
 * room-access.ts.
 */
export interface MessagesDomainOptions {
  maxBodyChars: number;
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
    const access = await requireAccess(this.rooms, roomId, actor, special ? 'message.send_urgent' : 'message.send');
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
    const attachments = await resolveAttachments(this.store, actor, roomId, attachmentIds);
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
    const access = await requireAccess(this.rooms, roomId, actor, 'room.read');
    const { rows, more } = await this.store.readHistory(roomId, plan, access.visible_from_seq);
    await this.hideEarlierReplies(roomId, rows, access.visible_from_seq);
    const edge = plan.direction === 'older' ? rows[0] : rows.at(-1);
    return {
      items: await this.viewedBy(rows, actor),
      next_cursor: more && edge ? String(edge.seq) : null,
    };
  }

  /** The sender edits their own message, until it is deleted. */
  async edit(actor: Actor, roomId: string, messageId: string, body: string): Promise<Message> {
    const normalised = normaliseBody(body, this.options.maxBodyChars);
    const access = await requireAccess(this.rooms, roomId, actor, 'message.send');
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
    const access = await requireAccess(this.rooms, roomId, actor, 'message.send');
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
    const access = await requireAccess(this.rooms, roomId, actor, 'message.send');
    const acknowledgement: MessageChange = { kind: 'acknowledge', userId: actor.user_id, name: actor.name };
    return this.change(actor, roomId, messageId, access.visible_from_seq, acknowledgement, (current) => {
      const problem = acknowledgementProblem(current, actor.user_id);
      if (problem) throw new ChatError('conflict', problem);
    });
  }

  /** Who acknowledged (first first) and who of the members at send time, less the sender, has not. */
  async acknowledgements(actor: Actor, roomId: string, messageId: string) {
    const access = await requireAccess(this.rooms, roomId, actor, 'room.read');
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
      const access = await requireAccess(this.rooms, query.room_id, actor, 'room.read');
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

  async getMessage(actor: Actor, roomId: string, messageId: string): Promise<Message> {
    const access = await requireAccess(this.rooms, roomId, actor, 'room.read');
    const row = await this.store.findMessage(roomId, messageId);
    if (!row || row.seq <= access.visible_from_seq) throw ChatError.notFound('message');
    return this.withReactions(row, actor, access.visible_from_seq);
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
}
