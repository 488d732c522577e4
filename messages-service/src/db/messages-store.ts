import type { Kysely } from 'kysely';
import type pg from 'pg';
import type { MessageStore } from '../domain/ports.js';
import * as repository from './messages-repository.js';
import type { CommittedEvent } from './outbox-repository.js';
import type { MessagesDatabase } from './schema.js';
import { SendBatcher } from './send-batch.js';

export interface SqlMessageStoreOptions {
  /**
   * The connections send batches are stored on, opened with `preparedPlans: 'once'` (openSendPool):
   * the batch statement is planned once per connection instead of once per batch.
   */
  sendPool: Pick<pg.Pool, 'query'>;
  /** Sends stored per transaction at most, and transactions in flight (SendBatcher). */
  sendBatchMax: number;
  sendBatchParallel: number;
  /** Publishes a send batch's events right after its commit; without it the relay does. */
  publishCommitted?: (events: CommittedEvent[]) => void;
  /** How long the relay leaves events `publishCommitted` was given before publishing them itself. */
  relayGraceMs?: number;
}

/**
 * The messages domain's store over Postgres: each call is one repository function (Kysely, or the
 * pool for the few hot statements prepared by name), and plain sends go through the SendBatcher.
 */
export class SqlMessageStore implements MessageStore {
  private readonly batcher: SendBatcher;

  constructor(
    private readonly db: Kysely<MessagesDatabase>,
    private readonly pool: Pick<pg.Pool, 'query'>,
    options: SqlMessageStoreOptions,
  ) {
    this.batcher = new SendBatcher(options.sendPool, {
      maxBatch: options.sendBatchMax,
      parallel: options.sendBatchParallel,
      ...(options.publishCommitted ? { onCommitted: options.publishCommitted, relayGraceMs: options.relayGraceMs ?? 2000 } : {}),
    });
  }

  findByClientMsgId: MessageStore['findByClientMsgId'] = (senderId, clientMsgId) =>
    repository.findByClientMsgId(this.db, senderId, clientMsgId);
  findMessage: MessageStore['findMessage'] = (roomId, messageId) => repository.findMessage(this.db, roomId, messageId);
  findMessages: MessageStore['findMessages'] = (roomId, messageIds) => repository.findMessages(this.db, roomId, messageIds);
  readLastSeq: MessageStore['readLastSeq'] = (roomId) => repository.readLastSeq(this.db, roomId);
  readLastSeqs: MessageStore['readLastSeqs'] = (roomIds) => repository.readLastSeqs(this.pool, roomIds);
  findMessageSeq: MessageStore['findMessageSeq'] = (messageId, roomId) => repository.findMessageSeq(this.db, messageId, roomId);
  findMessageSeqs: MessageStore['findMessageSeqs'] = (roomId, messageIds) => repository.findMessageSeqs(this.db, roomId, messageIds);
  storeBatched: MessageStore['storeBatched'] = (draft, encodeEvent, rootAfterSeq, replyToSeq) =>
    this.batcher.store(draft, encodeEvent, rootAfterSeq, replyToSeq);
  insertMessageWithEvent: MessageStore['insertMessageWithEvent'] = (draft, encodeEvent, ackRecipients, rootAfterSeq) =>
    repository.insertMessageWithEvent(this.db, draft, encodeEvent, ackRecipients, rootAfterSeq);
  applyMessageChange: MessageStore['applyMessageChange'] = (roomId, messageId, change, check, encodeEvent) =>
    repository.applyMessageChange(this.db, roomId, messageId, change, check, encodeEvent);
  loadThreadSummaries: MessageStore['loadThreadSummaries'] = (rootIds) => repository.loadThreadSummaries(this.db, rootIds);
  loadThreadParticipants: MessageStore['loadThreadParticipants'] = (rootIds) => repository.loadThreadParticipants(this.db, rootIds);
  acknowledgedBy: MessageStore['acknowledgedBy'] = (messageIds, viewerId) => repository.acknowledgedBy(this.db, messageIds, viewerId);
  readAcknowledgements: MessageStore['readAcknowledgements'] = (messageId) => repository.readAcknowledgements(this.db, messageId);
  pendingAcknowledgements: MessageStore['pendingAcknowledgements'] = (messageIds) =>
    repository.pendingAcknowledgements(this.db, messageIds);
  loadReactionCounts: MessageStore['loadReactionCounts'] = (messageIds, viewerId) =>
    repository.loadReactionCounts(this.db, messageIds, viewerId);
  distinctEmojiCount: MessageStore['distinctEmojiCount'] = (messageId) => repository.distinctEmojiCount(this.db, messageId);
  readHistory: MessageStore['readHistory'] = (roomId, plan, visibleFromSeq) =>
    repository.readHistory(this.db, roomId, plan, visibleFromSeq);
  readSyncWindows: MessageStore['readSyncWindows'] = (requests) => repository.readSyncWindows(this.pool, requests);
  readRoomLog: MessageStore['readRoomLog'] = (roomId, afterSeq, limit) => repository.readRoomLog(this.pool, roomId, afterSeq, limit);
  searchMessages: MessageStore['searchMessages'] = (roomIds, query, limit, after, visibleFrom) =>
    repository.searchMessages(this.db, roomIds, query, limit, after, visibleFrom);
  insertAttachment: MessageStore['insertAttachment'] = (row) => repository.insertAttachment(this.db, row);
  uploadedInLastDay: MessageStore['uploadedInLastDay'] = (uploaderId) => repository.uploadedInLastDay(this.db, uploaderId);
  findAttachments: MessageStore['findAttachments'] = (ids) => repository.findAttachments(this.db, ids);
}
