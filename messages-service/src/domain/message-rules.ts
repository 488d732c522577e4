import { randomUUID } from 'node:crypto';
import {
  type Attachment,
  ChatError,
  countChars,
  type Message,
  type MessageKind,
  type ReactionSummary,
  type ThreadSummary,
} from '@chat/shared';
import type { Actor } from '@chat/shared/auth';
import type { AttachmentRow, MessageDraft, MessageRow, ReactionCount, ThreadSummaryRow } from './rows.js';

/**
 * Bodies are stored trimmed and must hold 1..max characters (code points) after trimming; a message
 * that carries attachments may have an empty body (a photo on its own).
 */
export function normaliseBody(body: string, maxChars: number, allowEmpty = false): string {
  const trimmed = body.trim();
  const length = countChars(trimmed);
  if (length === 0 && !allowEmpty) throw ChatError.invalid('message body is empty', [{ path: 'body', message: 'must not be empty' }]);
  if (length > maxChars) {
    throw ChatError.invalid(`message body is longer than ${maxChars} characters`, [
      { path: 'body', message: `at most ${maxChars} characters, got ${length}` },
    ]);
  }
  return trimmed;
}

/** A message's kind follows from what it carries: any image makes it an image message. */
export function deriveKind(attachments: readonly Attachment[]): MessageKind {
  if (attachments.length === 0) return 'text';
  return attachments.some((a) => a.content_type.startsWith('image/')) ? 'image' : 'file';
}

/** The public form of a root's summary (rows without one are no roots with replies). */
export function threadSummaryOf(rows: readonly ThreadSummaryRow[], messageId: string): ThreadSummary | null {
  const row = rows.find((r) => r.root_id === messageId);
  if (!row) return null;
  return { reply_count: row.reply_count, last_reply_at: row.last_reply_at.toISOString(), participant_ids: row.participant_ids };
}

/** Reactions as a message shows them: per emoji, with `me` only when shown to one viewer. */
export function summariseReactions(counts: readonly ReactionCount[], messageId: string, withMe: boolean): ReactionSummary[] {
  return counts
    .filter((c) => c.message_id === messageId)
    .map((c) => (withMe ? { emoji: c.emoji, count: c.count, me: c.me } : { emoji: c.emoji, count: c.count }));
}

/**
 * The public form of a stored message. `acknowledgedByViewer` is given when one viewer sees it (acks,
 * REST): `acknowledgements.me`; left out for events, which every recipient shares. Likewise `thread`
 * is given for acks and REST answers (null when the message is no root with replies) and left
 * undefined for events, which leave it out: a root's summary changes without an event of its own
 * (clients count the replies they receive).
 */
export function toMessage(
  row: MessageRow,
  reactions: ReactionSummary[] = [],
  acknowledgedByViewer?: boolean,
  thread?: ThreadSummary | null,
): Message {
  const deleted = row.deleted_at !== null;
  return {
    id: row.id,
    room_id: row.room_id,
    seq: row.seq,
    client_msg_id: row.client_msg_id,
    sender_id: row.sender_id,
    sender_name: row.sender_name,
    kind: row.kind,
    body: deleted ? '' : row.body,
    mentions: row.mentions,
    reply_to: row.reply_to,
    thread_root_id: row.thread_root_id ?? null,
    ...(thread === undefined ? {} : { thread }),
    attachments: deleted ? [] : row.attachments,
    reactions: deleted ? [] : reactions,
    priority: row.priority,
    ack_requested: row.ack_requested,
    acknowledgements: acknowledgedByViewer === undefined ? { count: row.ack_count } : { count: row.ack_count, me: acknowledgedByViewer },
    created_at: row.created_at.toISOString(),
    edited_at: row.edited_at ? new Date(row.edited_at).toISOString() : null,
    deleted_at: row.deleted_at ? new Date(row.deleted_at).toISOString() : null,
  };
}

/**
 * The client-facing event frame, encoded once here and stored, replayed and published as is.
 * `type`, `room_id` and `seq` come first: gateways read the seq from the head of the bytes.
 */
export function encodeRoomEvent(
  type: 'message.created' | 'message.updated' | 'message.deleted' | 'reaction.updated' | 'message.acknowledged',
  seq: number,
  message: Message,
  extra: Record<string, unknown> = {},
): string {
  return JSON.stringify({ type, room_id: message.room_id, seq, message, ...extra });
}

export interface HistoryPlan {
  /** Rows are read in this direction from the bound, then returned oldest first. */
  direction: 'older' | 'newer';
  beforeSeq: number | undefined;
  afterSeq: number | undefined;
  limit: number;
  /** That thread's replies only (the root left out). */
  threadRootId: string | undefined;
  /** Thread replies left out. */
  topLevel: boolean;
}

export function planHistory(query: {
  before_seq?: number | undefined;
  after_seq?: number | undefined;
  limit?: number | undefined;
  thread_root_id?: string | undefined;
  top_level?: boolean | undefined;
}): HistoryPlan {
  const limit = query.limit ?? 50;
  if (query.thread_root_id !== undefined && query.top_level) {
    throw ChatError.invalid('thread_root_id and top_level=true exclude each other', [
      { path: 'top_level', message: 'a thread holds replies only' },
    ]);
  }
  if (query.before_seq !== undefined && query.after_seq !== undefined && query.after_seq >= query.before_seq - 1) {
    throw ChatError.invalid('after_seq must be below before_seq - 1', [{ path: 'after_seq', message: 'empty range' }]);
  }
  return {
    direction: query.after_seq !== undefined ? 'newer' : 'older',
    beforeSeq: query.before_seq,
    afterSeq: query.after_seq,
    limit,
    threadRootId: query.thread_root_id,
    topLevel: query.top_level ?? false,
  };
}

/** The public form of a stored attachment: downloads go through the gateway, for members only. */
export function toAttachment(row: AttachmentRow): Attachment {
  return {
    id: row.id,
    name: row.name,
    content_type: row.content_type,
    size: row.size,
    url: `/v1/attachments/${row.id}`,
    ...(row.width ? { width: row.width } : {}),
    ...(row.height ? { height: row.height } : {}),
    ...(row.thumbnail_content_type ? { thumbnail_url: `/v1/attachments/${row.id}?size=thumb` } : {}),
  };
}

/** Why an attachment cannot go into this sender's message in this room, or null when it can. */
export function attachmentProblem(row: AttachmentRow | undefined, roomId: string, senderId: string): string | null {
  if (!row || row.deleted_at !== null) return 'no such attachment';
  if (row.room_id !== roomId) return 'uploaded to another room';
  if (row.uploader_id !== senderId) return 'uploaded by someone else';
  if (row.message_id !== null) return 'already part of a message';
  return null;
}

/** A short text for notifications: the body's start, or what the message carries when it has none. */
export function previewOf(row: Pick<MessageRow, 'body' | 'kind' | 'deleted_at'>, maxChars = 120): string {
  if (row.deleted_at !== null) return '';
  const body = row.body.replace(/\s+/g, ' ').trim();
  if (body) return [...body].length > maxChars ? `${[...body].slice(0, maxChars - 1).join('')}…` : body;
  if (row.kind === 'image') return '📷 Photo';
  if (row.kind === 'file') return '📎 File';
  return '';
}

/** Why this user may not acknowledge this message (409 conflict), or null when they may. */
export function acknowledgementProblem(row: Pick<MessageRow, 'ack_requested' | 'sender_id' | 'deleted_at'>, userId: string): string | null {
  if (!row.ack_requested) return 'this message does not ask for acknowledgements';
  if (row.sender_id === userId) return 'the sender does not acknowledge their own message';
  if (row.deleted_at !== null) return 'a deleted message cannot be acknowledged';
  return null;
}

/** Thrown when an attachment was taken by a concurrent send between resolving and claiming it. */
export class AttachmentTaken extends Error {}

/**
 * A send whose `thread_root_id` is no root of its room (another room's message, a reply, none, or
 * one from before a late joiner joined):
 * checked inside the batch statement, so a thread reply costs no round trip of its own.
 */
export class ThreadRootRefused extends Error {
  constructor() {
    super('thread_root_id is not a top-level message of this room');
  }
}

/** A new message from `actor` in a room, with a fresh id; its seq comes from the store. */
export function draftMessage(
  actor: Actor,
  roomId: string,
  clientMsgId: string,
  content: Omit<MessageDraft, 'id' | 'room_id' | 'sender_id' | 'sender_name' | 'client_msg_id'>,
): MessageDraft {
  return { id: randomUUID(), room_id: roomId, sender_id: actor.user_id, sender_name: actor.name, client_msg_id: clientMsgId, ...content };
}

/** The `message.created` event of a stored message (encoded once, shared by every recipient). */
export function encodeCreated(stored: MessageRow): string {
  return encodeRoomEvent('message.created', stored.seq, toMessage(stored));
}
