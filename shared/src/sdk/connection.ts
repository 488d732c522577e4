import type { ErrorCode } from '../errors/index.js';
import { ChatRequestError, type ConnectionStatus, type WebSocketFactory, type WebSocketLike } from './types.js';

/** A frame from the server, as parsed JSON (the contracts' ServerFrame types describe each). */
export type Frame = Record<string, unknown> & { type: string };

export interface ConnectionOptions {
  /** The gateway's socket origin; `/v1/ws` is added. */
  url: string;
  token: () => Promise<string>;
  createSocket?: WebSocketFactory | undefined;
  requestTimeoutMs: number;
  backoff: { initialMs: number; maxMs: number };
  random: () => number;
}

/** What the connection tells its owner. */
export interface ConnectionListener {
  status(status: ConnectionStatus): void;
  /** The server said hello: the socket is open and `userId` is known. */
  hello(frame: Frame): void;
  /** Any frame that is not hello, an ack, an error or a pong. */
  frame(frame: Frame): void;
  closed(event: { code: number; reason: string }): void;
}

interface PendingRequest {
  resolve(data: Record<string, unknown>): void;
  reject(error: ChatRequestError): void;
  timer: ReturnType<typeof setTimeout>;
}

const OPEN = 1;

/**
 * One socket at a time: connects with a fresh token, correlates requests with their ack or error
 * (with a timeout), and reconnects with jittered exponential back-off until closed for good or the
 * server refuses the token (close code 4001).
 */
export class Connection {
  status: ConnectionStatus = 'idle';
  userId: string | undefined;
  private socket: WebSocketLike | undefined;
  private readonly pending = new Map<string, PendingRequest>();
  private attempt = 0;
  private nextRequest = 1;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly options: ConnectionOptions,
    private readonly listener: ConnectionListener,
  ) {}

  async open(): Promise<void> {
    if (this.status === 'closed') return;
    this.setStatus(this.attempt === 0 ? 'connecting' : 'reconnecting');
    let token: string;
    try {
      token = await this.options.token();
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

  /** Closes for good: no reconnect; pending requests reject with `disconnected`. */
  close(): void {
    this.setStatus('closed');
    clearTimeout(this.reconnectTimer);
    this.socket?.close(1000, 'client closed');
    this.failPending();
  }

  isOpen(): boolean {
    return this.status === 'open' && this.socket?.readyState === OPEN;
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

  /** Exponential with jitter: 50-100% of min(max, initial × 2^(attempt-1)). */
  backoffDelay(attempt: number): number {
    const { initialMs, maxMs } = this.options.backoff;
    const step = Math.min(maxMs, initialMs * 2 ** Math.max(0, attempt - 1));
    return Math.round(step * (0.5 + this.options.random() / 2));
  }

  private onClose(socket: WebSocketLike, event: { code: number; reason: string }): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    this.failPending();
    this.listener.closed(event);
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

  private onFrame(text: string): void {
    let frame: Frame;
    try {
      frame = JSON.parse(text) as Frame;
    } catch {
      return;
    }
    switch (frame.type) {
      case 'hello':
        this.attempt = 0;
        this.userId = String(frame.user_id);
        this.setStatus('open');
        this.listener.hello(frame);
        return;
      case 'ack':
      case 'error':
        this.settle(frame);
        return;
      case 'pong':
        return;
      default:
        this.listener.frame(frame);
    }
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

  private failPending(): void {
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(new ChatRequestError('disconnected', 'the connection closed'));
      this.pending.delete(id);
    }
  }

  private setStatus(status: ConnectionStatus): void {
    if (this.status === status) return;
    this.status = status;
    this.listener.status(status);
  }
}
