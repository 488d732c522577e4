import type { TimeIdCursor } from '@chat/shared';
import type { HistoryPlan } from './message-rules.js';
import type { AttachmentRow, MessageDraft, MessageRow, ReactionCount, ThreadSummaryRow } from './rows.js';

/** A change to an existing message; each that changes something is a room event with its own seq. */
export type MessageChange =
  | { kind: 'edit'; body: string }
  | { kind: 'delete' }
  | { kind: 'reaction'; userId: string; emoji: string; action: 'added' | 'removed' }
  | { kind: 'acknowledge'; userId: string; name: string | null };

/**
 * Where messages, their events, reactions, acknowledgements and attachments are kept (db/
 * implements it over Postgres: messages-store.ts). Writes that produce a room event write it in
 * the same transaction, encoded by the caller once the stored row is known.
 */
export interface MessageStore {
  findByClientMsgId(senderId: string, clientMsgId: string): Promise<MessageRow | undefined>;
  findMessage(roomId: string, messageId: string): Promise<MessageRow | undefined>;
  findMessages(roomId: string, messageIds: string[]): Promise<MessageRow[]>;
  readLastSeq(roomId: string): Promise<number>;
  readLastSeqs(roomIds: string[]): Promise<Map<string, number>>;
  findMessageSeq(messageId: string, roomId: string): Promise<number | undefined>;
  findMessageSeqs(roomId: string, messageIds: string[]): Promise<Map<string, number>>;
  /**
   * A plain send (no attachments, no acknowledgement request), stored with others in one batch;
   * undefined when its (sender, client_msg_id) already existed. `replyToSeq`: its reply target's seq.
   */
  storeBatched(
    draft: MessageDraft,
    encodeEvent: (row: MessageRow) => string,
    rootAfterSeq?: number,
    replyToSeq?: number,
  ): Promise<MessageRow | undefined>;
  /** Any other send, in a transaction of its own (claims its attachments, records who is asked to acknowledge). */
  insertMessageWithEvent(
    draft: MessageDraft,
    encodeEvent: (row: MessageRow) => string,
    ackRecipients?: readonly string[],
    rootAfterSeq?: number,
  ): Promise<MessageRow | undefined>;
  /** Under the message's row lock: `check` may refuse; a change that alters nothing writes nothing. */
  applyMessageChange(
    roomId: string,
    messageId: string,
    change: MessageChange,
    check: (current: MessageRow) => void,
    encodeEvent: (row: MessageRow, reactions: ReactionCount[], seq: number) => string,
  ): Promise<{ row: MessageRow; changed: boolean } | undefined>;
  loadThreadSummaries(rootIds: string[]): Promise<ThreadSummaryRow[]>;
  loadThreadParticipants(rootIds: string[]): Promise<Map<string, string[]>>;
  acknowledgedBy(messageIds: string[], viewerId: string): Promise<Set<string>>;
  readAcknowledgements(
    messageId: string,
  ): Promise<{ items: Array<{ user_id: string; name: string | null; acknowledged_at: Date }>; pending: string[] }>;
  pendingAcknowledgements(messageIds: string[]): Promise<Map<string, string[]>>;
  loadReactionCounts(messageIds: string[], viewerId: string | null): Promise<ReactionCount[]>;
  distinctEmojiCount(messageId: string): Promise<number>;
  readHistory(roomId: string, plan: HistoryPlan, visibleFromSeq?: number): Promise<{ rows: MessageRow[]; more: boolean }>;
  /**
   * One snapshot of rooms for subscribes, answered in the order asked: each room's last seq, the
   * events after `sinceSeq` (null: more than `maxEvents`), all published or not.
   */
  readSyncWindows(
    requests: Array<{ roomId: string; sinceSeq: number | undefined; maxEvents: number }>,
  ): Promise<Array<{ lastSeq: number; events: string[] | null; allPublished: boolean }>>;
  readRoomLog(roomId: string, afterSeq: number, limit: number): Promise<Array<{ event: string; reply_to_seq: number | null }>>;
  searchMessages(
    roomIds: string[],
    query: string,
    limit: number,
    after: TimeIdCursor | undefined,
    visibleFrom?: ReadonlyMap<string, number>,
  ): Promise<Array<MessageRow & { created_micros: number }>>;
  insertAttachment(row: Omit<AttachmentRow, 'created_at' | 'message_id' | 'deleted_at' | 'sweep_until' | 'blob_deleted_at'>): Promise<void>;
  uploadedInLastDay(uploaderId: string): Promise<{ bytes: number; oldest: Date | null }>;
  findAttachments(ids: string[]): Promise<AttachmentRow[]>;
}
