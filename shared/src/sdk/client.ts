import type { AcknowledgementList, Message, SendMessageBody } from '../contracts/message.js';
import type { ModerationReport, Report, ReportReason, ReportStatus } from '../contracts/report.js';
import type { Block, Room, UnreadSummary } from '../contracts/room.js';
import { Connection, type Frame } from './connection.js';
import { Emitter } from './emitter.js';
import { Outbox } from './outbox.js';
import { type HistoryFilter, RestClient } from './rest.js';
import { RoomSequences } from './sequence.js';
import {
  ChatRequestError,
  type ConnectionStatus,
  memoryOutbox,
  type OutboxEntry,
  type OutboxStorage,
  type WebSocketFactory,
} from './types.js';
import { UnreadRefresher } from './unread.js';

export type { Frame } from './connection.js';

export interface ChatClientOptions {
  /** The gateway's socket origin, e.g. `wss://chat.example.com` (the client adds `/v1/ws`). */
  url: string;
  /** The gateway's HTTP origin for REST, e.g. `https://chat.example.com`. */
  httpUrl: string;
  /** A token, or a function that returns a fresh one (called before every connect). */
  token: string | (() => string | Promise<string>);
  createSocket?: WebSocketFactory;
  outbox?: OutboxStorage;
  requestTimeoutMs?: number;
  backoff?: { initialMs: number; maxMs: number };
  random?: () => number;
  newId?: () => string;
  fetch?: typeof fetch;
}

type ClientEvents = {
  status: [ConnectionStatus];
  hello: [Frame];
  /** Every event for a subscribed room, persisted ones exactly once and in seq order. */
  event: [Frame];
  /** Too many events were missed: reload the room's history (the subscription goes on live). */
  resync: [string];
  outbox: [OutboxEntry];
  unread: [UnreadSummary];
  closed: [{ code: number; reason: string }];
};

/**
 * The chat client for browsers and Node: one socket for any number of rooms, request/ack
 * correlation with timeouts, reconnection with jittered exponential back-off, resume of every
 * subscribed room with `since_seq` and repair of any gap it sees, a persistent outbox of sends
 * that are retried with their `client_msg_id` until acknowledged, and absolute unread counts.
 *
 * A facade over its parts: `Connection` (socket, requests, reconnects), `Outbox`, `RestClient`,
 * `RoomSequences` (resume and gap repair) and `UnreadRefresher`.
 */
export class ChatClient extends Emitter<ClientEvents> {
  private readonly connection: Connection;
  private readonly outboxQueue: Outbox;
  private readonly rest: RestClient;
  private readonly sequences: RoomSequences;
  private readonly unread: UnreadRefresher;

  constructor(options: ChatClientOptions) {
    super();
    const token = async () => (typeof options.token === 'string' ? options.token : options.token());
    this.connection = new Connection(
      {
        url: options.url,
        token,
        createSocket: options.createSocket,
        requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
        backoff: options.backoff ?? { initialMs: 500, maxMs: 30_000 },
        random: options.random ?? Math.random,
      },
      {
        status: (status) => this.emit('status', status),
        hello: (frame) => this.onHello(frame),
        frame: (frame) => this.onFrame(frame),
        closed: (event) => this.emit('closed', event),
      },
    );
    this.rest = new RestClient({ httpUrl: options.httpUrl, token, fetch: options.fetch });
    this.sequences = new RoomSequences((roomId, since) =>
      this.request({ type: 'subscribe', room_id: roomId, ...(since !== undefined ? { since_seq: since } : {}) }),
    );
    this.unread = new UnreadRefresher(
      () => this.rest.unread(),
      (summary) => this.emit('unread', summary),
    );
    const newId = options.newId ?? (() => globalThis.crypto.randomUUID());
    this.outboxQueue = new Outbox(options.outbox ?? memoryOutbox(), {
      isOpen: () => this.connection.isOpen(),
      request: (frame) => this.request(frame),
      retryDelay: (attempts) => this.connection.backoffDelay(attempts),
      changed: (entry) => this.emit('outbox', entry),
      newId,
    });
  }

  get status(): ConnectionStatus {
    return this.connection.status;
  }

  get user(): string | undefined {
    return this.connection.userId;
  }

  /** Connects (and keeps reconnecting until `close()`); resolves at the first `hello`. */
  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const offHello = this.on('hello', () => {
        offHello();
        offStatus();
        resolve();
      });
      const offStatus = this.on('status', (status) => {
        if (status === 'unauthenticated' || status === 'closed') {
          offHello();
          offStatus();
          reject(new ChatRequestError('unauthenticated', `connection ${status}`));
        }
      });
      void this.connection.open();
    });
  }

  /** Closes for good: no reconnect. Pending outbox entries stay stored for the next session. */
  close(): void {
    this.unread.stop();
    this.connection.close();
  }

  /** The last seq applied for a room: store it with the room's messages to resume later. */
  lastSeq(roomId: string): number | undefined {
    return this.sequences.lastSeq(roomId);
  }

  /** Subscribes (and resubscribes after every reconnect) with `since_seq` = the last applied seq. */
  subscribe(roomId: string, options: { sinceSeq?: number } = {}): Promise<Record<string, unknown>> {
    return this.sequences.subscribe(roomId, options.sinceSeq);
  }

  async unsubscribe(roomId: string): Promise<void> {
    this.sequences.drop(roomId);
    if (this.connection.isOpen()) await this.request({ type: 'unsubscribe', room_id: roomId });
  }

  /** Sends a frame and resolves with its ack's data, or rejects with the error code (or `timeout`). */
  request(frame: Record<string, unknown>): Promise<Record<string, unknown>> {
    return this.connection.request(frame);
  }

  // --- sending through the outbox -------------------------------------------------------------

  /** Queues a message: pending until acknowledged (retried with the same client_msg_id), or failed. */
  send(roomId: string, draft: Omit<SendMessageBody, 'client_msg_id'>): OutboxEntry {
    return this.outboxQueue.add(roomId, draft);
  }

  outbox(): readonly OutboxEntry[] {
    return this.outboxQueue.all();
  }

  /** Drops finished entries (sent, or failed and shown to the user) from storage. */
  forget(clientMsgId: string): void {
    this.outboxQueue.forget(clientMsgId);
  }

  /** A failed entry, sent again (e.g. after the user fixed the reason). */
  retry(clientMsgId: string): void {
    this.outboxQueue.retry(clientMsgId);
  }

  // --- other requests ---------------------------------------------------------------------------

  edit(roomId: string, messageId: string, body: string) {
    return this.request({ type: 'message.edit', room_id: roomId, message_id: messageId, body });
  }

  delete(roomId: string, messageId: string) {
    return this.request({ type: 'message.delete', room_id: roomId, message_id: messageId });
  }

  react(roomId: string, messageId: string, emoji: string, on = true) {
    return this.request({ type: on ? 'reaction.add' : 'reaction.remove', room_id: roomId, message_id: messageId, emoji });
  }

  /**
   * Acknowledges a message that asked for it (DESIGN 10.2); idempotent. Resolves with the message
   * (its `acknowledgements` with `me: true`); rejects with `conflict` for a message that did not ask,
   * or one's own.
   */
  async acknowledge(roomId: string, messageId: string): Promise<Message> {
    const ack = (await this.request({ type: 'message.acknowledge', room_id: roomId, message_id: messageId })) as { message: Message };
    return ack.message;
  }

  typing(roomId: string) {
    return this.request({ type: 'typing', room_id: roomId });
  }

  /** Marks read up to `seq`; the answer (and the `unread` event) carries the absolute unread count. */
  async markRead(roomId: string, seq: number): Promise<{ last_read_seq: number; unread_count: number }> {
    const ack = (await this.request({ type: 'read', room_id: roomId, seq })) as { last_read_seq: number; unread_count: number };
    this.unread.schedule(0);
    return ack;
  }

  // --- REST ---------------------------------------------------------------------------------------

  /** A REST call with the client's token; problem+json answers reject with their code. */
  api<T>(
    method: string,
    path: string,
    body?: unknown,
    init: { raw?: RequestInit['body']; headers?: Record<string, string> } = {},
  ): Promise<T> {
    return this.rest.api<T>(method, path, body, init);
  }

  listRooms(query = ''): Promise<{ items: Room[]; next_cursor: string | null }> {
    return this.rest.listRooms(query);
  }

  /** A page of history, oldest first; `filter.topLevel` leaves thread replies out (a channel view with thread summaries). */
  history(
    roomId: string,
    beforeSeq?: number,
    limit = 50,
    filter: HistoryFilter = {},
  ): Promise<{ items: Message[]; next_cursor: string | null }> {
    return this.rest.history(roomId, beforeSeq, limit, filter);
  }

  /** A page of one thread's replies, oldest first (the root is not included: it is in the room's history). */
  thread(roomId: string, rootId: string, beforeSeq?: number, limit = 50): Promise<{ items: Message[]; next_cursor: string | null }> {
    return this.rest.history(roomId, beforeSeq, limit, { threadRootId: rootId });
  }

  /** Replies in a thread: sent through the outbox like any message. */
  reply(roomId: string, rootId: string, draft: Omit<SendMessageBody, 'client_msg_id' | 'thread_root_id'>): OutboxEntry {
    return this.send(roomId, { ...draft, thread_root_id: rootId });
  }

  /** Who acknowledged a message, and who of the members asked has not yet (`pending`). */
  acknowledgements(roomId: string, messageId: string): Promise<AcknowledgementList> {
    return this.rest.acknowledgements(roomId, messageId);
  }

  /**
   * Blocks a user (DESIGN 10.3; idempotent): they can no longer open a direct room with me or send
   * into ours, and nothing they send is pushed to me. In groups their messages still arrive: hide
   * them with `blocks()`.
   */
  block(userId: string): Promise<Block> {
    return this.rest.block(userId);
  }

  unblock(userId: string): Promise<void> {
    return this.rest.unblock(userId);
  }

  /** The users I blocked, newest first. */
  blocks(cursor?: string): Promise<{ items: Block[]; next_cursor: string | null }> {
    return this.rest.blocks(cursor);
  }

  /** Reports a message to the moderators; reporting it again answers the first report. */
  report(roomId: string, messageId: string, reason: ReportReason, note?: string): Promise<Report> {
    return this.rest.report(roomId, messageId, note === undefined ? { reason } : { reason, note });
  }

  /** Moderator and service tokens: the reports with a status (default open), oldest first. */
  reports(
    query: { status?: ReportStatus; limit?: number; cursor?: string } = {},
  ): Promise<{ items: ModerationReport[]; next_cursor: string | null }> {
    return this.rest.reports(query);
  }

  /** Moderator and service tokens: resolve or dismiss a report. */
  updateReport(reportId: string, status: 'resolved' | 'dismissed'): Promise<Report> {
    return this.rest.updateReport(reportId, status);
  }

  /** Fetches the absolute unread counts (the app badge) and announces them. */
  refreshUnread(): Promise<UnreadSummary> {
    return this.unread.refresh();
  }

  /** Exponential with jitter: 50-100% of min(max, initial × 2^(attempt-1)). */
  backoffDelay(attempt: number): number {
    return this.connection.backoffDelay(attempt);
  }

  // --- frames -------------------------------------------------------------------------------------

  private onHello(frame: Frame): void {
    this.emit('hello', frame);
    for (const roomId of this.sequences.roomIds()) this.sequences.resubscribe(roomId).catch(() => undefined);
    void this.outboxQueue.flush();
    this.unread.schedule(0);
  }

  private onFrame(frame: Frame): void {
    if (frame.type === 'resync') {
      this.emit('resync', String(frame.room_id));
      return;
    }
    const verdict = this.sequences.accept(frame);
    if (verdict === 'untracked' || verdict === 'duplicate' || verdict === 'gap') return;
    // Joined history: an event about a message from before we joined only moves the seq on.
    if (frame.type === 'event.hidden') return;
    if (verdict === 'applied' && (frame.type === 'message.created' || frame.type === 'message.deleted')) {
      const sender = (frame.message as { sender_id?: string } | undefined)?.sender_id;
      if (sender !== this.user) this.unread.schedule(250);
    }
    if (frame.type === 'member.removed' && frame.user_id === this.user) this.sequences.drop(String(frame.room_id));
    this.emit('event', frame);
  }
}
