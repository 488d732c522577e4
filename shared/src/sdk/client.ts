import type { Message, SendMessageBody } from '../contracts/message.js';
import type { Room, UnreadSummary } from '../contracts/room.js';
import type { ErrorCode } from '../errors/index.js';
import { Emitter } from './emitter.js';
import {
  ChatRequestError,
  type ConnectionStatus,
  memoryOutbox,
  type OutboxEntry,
  type OutboxStorage,
  type WebSocketFactory,
  type WebSocketLike,
} from './types.js';

/** A frame from the server, as parsed JSON (the contracts' ServerFrame types describe each). */
export type Frame = Record<string, unknown> & { type: string };

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

interface Subscription {
  lastSeq: number | undefined;
  repairing: boolean;
}

interface PendingRequest {
  resolve(data: Record<string, unknown>): void;
  reject(error: ChatRequestError): void;
  timer: ReturnType<typeof setTimeout>;
}

const OPEN = 1;
const PERSISTED = new Set(['message.created', 'message.updated', 'message.deleted', 'reaction.updated']);

/**
 * The chat client for browsers and Node: one socket for any number of rooms, request/ack
 * correlation with timeouts, reconnection with jittered exponential back-off, resume of every
 * subscribed room with `since_seq` and repair of any gap it sees, a persistent outbox of sends
 * that are retried with their `client_msg_id` until acknowledged, and absolute unread counts.
 */
export class ChatClient extends Emitter<ClientEvents> {
  status: ConnectionStatus = 'idle';
  private socket: WebSocketLike | undefined;
  private readonly rooms = new Map<string, Subscription>();
  private readonly pending = new Map<string, PendingRequest>();
  private outboxEntries: OutboxEntry[];
  private readonly outboxStore: OutboxStorage;
  private attempt = 0;
  private nextRequest = 1;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private unreadTimer: ReturnType<typeof setTimeout> | undefined;
  private flushing = false;
  private userId: string | undefined;
  private readonly options: Required<Omit<ChatClientOptions, 'outbox' | 'createSocket' | 'fetch'>> &
    Pick<ChatClientOptions, 'createSocket' | 'fetch'>;

  constructor(options: ChatClientOptions) {
    super();
    this.options = {
      requestTimeoutMs: 10_000,
      backoff: { initialMs: 500, maxMs: 30_000 },
      random: Math.random,
      newId: () => globalThis.crypto.randomUUID(),
      ...options,
    };
    this.outboxStore = options.outbox ?? memoryOutbox();
    this.outboxEntries = this.outboxStore.load();
  }

  get user(): string | undefined {
    return this.userId;
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
      void this.open();
    });
  }

  /** Closes for good: no reconnect. Pending outbox entries stay stored for the next session. */
  close(): void {
    this.setStatus('closed');
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.unreadTimer);
    this.socket?.close(1000, 'client closed');
    this.failPending('disconnected');
  }

  /** The last seq applied for a room: store it with the room's messages to resume later. */
  lastSeq(roomId: string): number | undefined {
    return this.rooms.get(roomId)?.lastSeq;
  }

  /** Subscribes (and resubscribes after every reconnect) with `since_seq` = the last applied seq. */
  async subscribe(roomId: string, options: { sinceSeq?: number } = {}): Promise<Record<string, unknown>> {
    const existing = this.rooms.get(roomId);
    const subscription: Subscription = existing ?? { lastSeq: options.sinceSeq, repairing: false };
    if (options.sinceSeq !== undefined) subscription.lastSeq = options.sinceSeq;
    this.rooms.set(roomId, subscription);
    return this.requestSubscribe(roomId);
  }

  async unsubscribe(roomId: string): Promise<void> {
    this.rooms.delete(roomId);
    if (this.isOpen()) await this.request({ type: 'unsubscribe', room_id: roomId });
  }

  /** Sends a frame and resolves with its ack's data, or rejects with the error code (or `timeout`). */
  request(frame: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (!this.isOpen() || !this.socket) return Promise.reject(new ChatRequestError('disconnected', 'not connected'));
    const id = `c${this.nextRequest++}`;
    const socket = this.socket;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ChatRequestError('timeout', `no answer to ${String(frame.type)} in ${this.options.requestTimeoutMs} ms`));
      }, this.options.requestTimeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      socket.send(JSON.stringify({ ...frame, id }));
    });
  }

  // --- sending through the outbox -------------------------------------------------------------

  /** Queues a message: pending until acknowledged (retried with the same client_msg_id), or failed. */
  send(roomId: string, draft: Omit<SendMessageBody, 'client_msg_id'>): OutboxEntry {
    const entry: OutboxEntry = {
      client_msg_id: this.options.newId(),
      room_id: roomId,
      draft,
      state: 'pending',
      attempts: 0,
      created_at: new Date().toISOString(),
    };
    this.outboxEntries.push(entry);
    this.saveOutbox(entry);
    void this.flushOutbox();
    return entry;
  }

  outbox(): readonly OutboxEntry[] {
    return this.outboxEntries;
  }

  /** Drops finished entries (sent, or failed and shown to the user) from storage. */
  forget(clientMsgId: string): void {
    this.outboxEntries = this.outboxEntries.filter((e) => e.client_msg_id !== clientMsgId);
    this.outboxStore.save(this.outboxEntries);
  }

  /** A failed entry, sent again (e.g. after the user fixed the reason). */
  retry(clientMsgId: string): void {
    const entry = this.outboxEntries.find((e) => e.client_msg_id === clientMsgId);
    if (!entry || entry.state !== 'failed') return;
    entry.state = 'pending';
    delete entry.error;
    this.saveOutbox(entry);
    void this.flushOutbox();
  }

  private async flushOutbox(): Promise<void> {
    if (this.flushing || !this.isOpen()) return;
    this.flushing = true;
    try {
      // In creation order, one at a time: a room's messages keep the order they were written in.
      for (const entry of this.outboxEntries) {
        if (entry.state !== 'pending') continue;
        if (!this.isOpen()) return;
        const stop = await this.deliver(entry);
        if (stop) return;
      }
    } finally {
      this.flushing = false;
    }
  }

  /** One attempt; true when flushing should pause (disconnected or asked to wait). */
  private async deliver(entry: OutboxEntry): Promise<boolean> {
    entry.attempts++;
    try {
      const ack = await this.request({ type: 'message.send', room_id: entry.room_id, client_msg_id: entry.client_msg_id, ...entry.draft });
      entry.state = 'sent';
      entry.message = ack.message as Message;
      this.saveOutbox(entry);
      return false;
    } catch (error) {
      const failure = error instanceof ChatRequestError ? error : new ChatRequestError('internal', String(error));
      if (!failure.transient) {
        entry.state = 'failed';
        entry.error = { code: failure.code, message: failure.message };
        this.saveOutbox(entry);
        return false;
      }
      entry.error = { code: failure.code, message: failure.message };
      this.saveOutbox(entry);
      if (failure.code === 'rate_limited' || failure.code === 'timeout' || failure.code === 'unavailable' || failure.code === 'internal') {
        const wait = failure.retryAfterMs ?? this.backoffDelay(entry.attempts);
        setTimeout(() => void this.flushOutbox(), wait);
      }
      return true;
    }
  }

  private saveOutbox(entry: OutboxEntry): void {
    this.outboxStore.save(this.outboxEntries);
    this.emit('outbox', { ...entry });
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

  typing(roomId: string) {
    return this.request({ type: 'typing', room_id: roomId });
  }

  /** Marks read up to `seq`; the answer (and the `unread` event) carries the absolute unread count. */
  async markRead(roomId: string, seq: number): Promise<{ last_read_seq: number; unread_count: number }> {
    const ack = (await this.request({ type: 'read', room_id: roomId, seq })) as { last_read_seq: number; unread_count: number };
    this.scheduleUnreadRefresh(0);
    return ack;
  }

  // --- REST ---------------------------------------------------------------------------------------

  /** A REST call with the client's token; problem+json answers reject with their code. */
  async api<T>(
    method: string,
    path: string,
    body?: unknown,
    init: { raw?: RequestInit['body']; headers?: Record<string, string> } = {},
  ): Promise<T> {
    const token = await this.token();
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, ...init.headers };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const fetchImpl = this.options.fetch ?? globalThis.fetch;
    const response = await fetchImpl(`${this.options.httpUrl}${path}`, {
      method,
      headers,
      body: init.raw ?? (body === undefined ? undefined : JSON.stringify(body)),
    });
    const text = await response.text();
    const parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    if (!response.ok) {
      throw new ChatRequestError(
        (parsed.code as ErrorCode) ?? 'internal',
        String(parsed.detail ?? response.statusText),
        parsed.retry_after_ms as number | undefined,
      );
    }
    return parsed as T;
  }

  listRooms(query = ''): Promise<{ items: Room[]; next_cursor: string | null }> {
    return this.api('GET', `/v1/rooms${query}`);
  }

  history(roomId: string, beforeSeq?: number, limit = 50): Promise<{ items: Message[]; next_cursor: string | null }> {
    const bound = beforeSeq === undefined ? '' : `&before_seq=${beforeSeq}`;
    return this.api('GET', `/v1/rooms/${roomId}/messages?limit=${limit}${bound}`);
  }

  /** Fetches the absolute unread counts (the app badge) and announces them. */
  async refreshUnread(): Promise<UnreadSummary> {
    const summary = await this.api<UnreadSummary>('GET', '/v1/me/unread');
    this.emit('unread', summary);
    return summary;
  }

  // --- the socket -------------------------------------------------------------------------------

  private async open(): Promise<void> {
    if (this.status === 'closed') return;
    this.setStatus(this.attempt === 0 ? 'connecting' : 'reconnecting');
    let token: string;
    try {
      token = await this.token();
    } catch {
      this.scheduleReconnect();
      return;
    }
    const url = `${this.options.url}/v1/ws?token=${encodeURIComponent(token)}`;
    const create =
      this.options.createSocket ?? ((u: string) => new (globalThis.WebSocket as unknown as new (u: string) => WebSocketLike)(u));
    const socket = create(url);
    this.socket = socket;
    socket.onmessage = (event) => this.onFrame(String(event.data));
    socket.onclose = (event) => this.onClose(socket, event);
    socket.onerror = () => undefined; // a close follows
  }

  private onClose(socket: WebSocketLike, event: { code: number; reason: string }): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    this.failPending('disconnected');
    this.emit('closed', event);
    if (this.status === 'closed') return;
    if (event.code === 4001) {
      this.setStatus('unauthenticated');
      return;
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    this.setStatus('reconnecting');
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => void this.open(), this.backoffDelay(++this.attempt));
  }

  /** Exponential with jitter: 50-100% of min(max, initial × 2^(attempt-1)). */
  backoffDelay(attempt: number): number {
    const { initialMs, maxMs } = this.options.backoff;
    const step = Math.min(maxMs, initialMs * 2 ** Math.max(0, attempt - 1));
    return Math.round(step * (0.5 + this.options.random() / 2));
  }

  private onFrame(text: string): void {
    let frame: Frame;
    try {
      frame = JSON.parse(text) as Frame;
    } catch {
      return;
    }
    switch (frame.type) {
      case 'hello':
        this.onHello(frame);
        return;
      case 'ack':
      case 'error':
        this.settle(frame);
        return;
      case 'pong':
        return;
      case 'resync':
        this.emit('resync', String(frame.room_id));
        return;
      default:
        this.onEvent(frame);
    }
  }

  private onHello(frame: Frame): void {
    this.attempt = 0;
    this.userId = String(frame.user_id);
    this.setStatus('open');
    this.emit('hello', frame);
    for (const roomId of this.rooms.keys()) this.requestSubscribe(roomId).catch(() => undefined);
    void this.flushOutbox();
    this.scheduleUnreadRefresh(0);
  }

  private settle(frame: Frame): void {
    const id = typeof frame.id === 'string' ? frame.id : undefined;
    const pending = id ? this.pending.get(id) : undefined;
    if (!pending || !id) return;
    this.pending.delete(id);
    clearTimeout(pending.timer);
    if (frame.type === 'ack') pending.resolve((frame.data as Record<string, unknown>) ?? {});
    else pending.reject(new ChatRequestError(frame.code as ErrorCode, String(frame.message), frame.retry_after_ms as number | undefined));
  }

  /** Persisted events are applied once, in seq order; a gap triggers a replay from the last applied seq. */
  private onEvent(frame: Frame): void {
    const roomId = String(frame.room_id);
    const subscription = this.rooms.get(roomId);
    if (!subscription) return;
    if (PERSISTED.has(frame.type) && typeof frame.seq === 'number') {
      const last = subscription.lastSeq ?? frame.seq - 1;
      if (frame.seq <= last) return;
      if (frame.seq > last + 1) {
        this.repair(roomId, subscription);
        return;
      }
      subscription.lastSeq = frame.seq;
      if (frame.type === 'message.created' || frame.type === 'message.deleted') {
        const sender = (frame.message as { sender_id?: string } | undefined)?.sender_id;
        if (sender !== this.userId) this.scheduleUnreadRefresh(250);
      }
    }
    if (frame.type === 'member.removed' && frame.user_id === this.userId) this.rooms.delete(roomId);
    this.emit('event', frame);
  }

  private repair(roomId: string, subscription: Subscription): void {
    if (subscription.repairing) return;
    subscription.repairing = true;
    this.requestSubscribe(roomId)
      .catch(() => undefined)
      .finally(() => {
        subscription.repairing = false;
      });
  }

  private async requestSubscribe(roomId: string): Promise<Record<string, unknown>> {
    const subscription = this.rooms.get(roomId);
    const since = subscription?.lastSeq;
    const ack = await this.request({ type: 'subscribe', room_id: roomId, ...(since !== undefined ? { since_seq: since } : {}) });
    const current = this.rooms.get(roomId);
    if (current && current.lastSeq === undefined) current.lastSeq = Number(ack.last_seq);
    return ack;
  }

  private scheduleUnreadRefresh(delayMs: number): void {
    clearTimeout(this.unreadTimer);
    this.unreadTimer = setTimeout(() => {
      this.refreshUnread().catch(() => undefined);
    }, delayMs);
  }

  private failPending(code: 'disconnected'): void {
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(new ChatRequestError(code, 'the connection closed'));
      this.pending.delete(id);
    }
  }

  private isOpen(): boolean {
    return this.status === 'open' && this.socket?.readyState === OPEN;
  }

  private setStatus(status: ConnectionStatus): void {
    if (this.status === status) return;
    this.status = status;
    this.emit('status', status);
  }

  private async token(): Promise<string> {
    return typeof this.options.token === 'string' ? this.options.token : this.options.token();
  }
}
