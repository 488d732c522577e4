import { io, type Socket } from 'socket.io-client';
import WebSocket from 'ws';

/** The three servers speak different protocols; the load generator drives each the same way. */
export type Protocol = 'chat' | 'uws' | 'socketio';

export interface Received {
  room: string;
  body: string;
  /** Persisted event seq (chat only), for gap and duplicate accounting. */
  seq?: number;
  messageId?: string;
}

export interface BenchClient {
  subscribe(rooms: string[], sinceSeq?: Map<string, number>): Promise<void>;
  send(room: string, body: string, key: string): Promise<void>;
  /** `rate_limited` answers this client waited out and sent again after (chat only). */
  readonly refusalsWaitedOut?: number;
  close(): void;
  onMessage: (message: Received) => void;
  onClose: (code: number) => void;
  /** A subscribe ack's position in a room (chat only). */
  onPosition?: (room: string, seq: number) => void;
}

interface Pending {
  resolve(): void;
  reject(error: Error): void;
}

/** An error answer; `rate_limited` ones say how long the socket must send nothing. */
class RequestRefused extends Error {
  constructor(
    readonly code: string,
    readonly retryAfterMs: number | undefined,
  ) {
    super(code);
  }
}

/** A chat client does not give up on a `rate_limited` send; past this many it is a bench fault. */
const MAX_SEND_ATTEMPTS = 50;

/** A WebSocket client whose requests carry an id that the server's ack or error echoes. */
abstract class CorrelatedWsClient implements BenchClient {
  private readonly pending = new Map<string, Pending>();
  private next = 0;
  onMessage: (message: Received) => void = () => undefined;
  onClose: (code: number) => void = () => undefined;
  onPosition: (room: string, seq: number) => void = () => undefined;

  constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => this.receive(JSON.parse(data.toString())));
    ws.on('close', (code) => {
      for (const pending of this.pending.values()) pending.reject(new Error(`closed ${code}`));
      this.pending.clear();
      this.onClose(code);
    });
  }

  protected abstract receive(frame: unknown): void;
  abstract subscribe(rooms: string[], sinceSeq?: Map<string, number>): Promise<void>;
  abstract send(room: string, body: string, key: string): Promise<void>;

  protected request(frame: Record<string, unknown>): Promise<void> {
    const id = String(this.next++);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ ...frame, id }));
    });
  }

  /** Settles the request `id` names: resolved without an error, rejected with one. */
  protected settle(id: string | undefined, error?: Error): void {
    const pending = id === undefined ? undefined : this.pending.get(id);
    if (!pending || id === undefined) return;
    this.pending.delete(id);
    if (error === undefined) pending.resolve();
    else pending.reject(error);
  }

  close(): void {
    this.ws.close();
  }
}

/**
 * Our socket protocol (DESIGN.md section 6), minimal: no outbox, just frames. Like any client of
 * the contract it obeys a `rate_limited` answer: it sends nothing for `retry_after_ms`, then sends
 * the refused message again with the same key (a socket that keeps sending is closed with 4008).
 */
class ChatBenchClient extends CorrelatedWsClient {
  private quietUntil = 0;
  refusalsWaitedOut = 0;

  protected receive(data: unknown): void {
    const frame = data as {
      type: string;
      id?: string;
      code?: string;
      retry_after_ms?: number;
      room_id?: string;
      seq?: number;
      message?: { body: string; id: string };
      data?: { room_id?: string; last_seq?: number };
    };
    if (frame.type === 'ack' && frame.data?.room_id !== undefined && frame.data.last_seq !== undefined) {
      this.onPosition(frame.data.room_id, frame.data.last_seq);
    }
    if (frame.type === 'ack') this.settle(frame.id);
    else if (frame.type === 'error') this.settle(frame.id, new RequestRefused(String(frame.code), frame.retry_after_ms));
    else if (frame.type === 'message.created' && frame.message) {
      this.onMessage({ room: String(frame.room_id), body: frame.message.body, seq: frame.seq, messageId: frame.message.id });
    }
  }

  async subscribe(rooms: string[], sinceSeq?: Map<string, number>): Promise<void> {
    await Promise.all(
      rooms.map((room) =>
        this.request({ type: 'subscribe', room_id: room, ...(sinceSeq?.has(room) ? { since_seq: sinceSeq.get(room) } : {}) }),
      ),
    );
  }

  async send(room: string, body: string, key: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const quiet = this.quietUntil - Date.now();
      if (quiet > 0) await new Promise((resolve) => setTimeout(resolve, quiet));
      try {
        return await this.request({ type: 'message.send', room_id: room, client_msg_id: key, body });
      } catch (error) {
        const refusal = error instanceof RequestRefused && error.code === 'rate_limited' ? error : undefined;
        if (!refusal || attempt >= MAX_SEND_ATTEMPTS) throw error;
        this.refusalsWaitedOut++;
        this.quietUntil = Math.max(this.quietUntil, Date.now() + (refusal.retryAfterMs ?? 1000));
      }
    }
  }
}

/** The bare uWS baseline's tiny protocol. */
class UwsBenchClient extends CorrelatedWsClient {
  protected receive(data: unknown): void {
    const frame = data as { t: string; id?: string; room?: string; body?: string };
    if (frame.t === 'ack') this.settle(frame.id);
    else if (frame.t === 'msg') this.onMessage({ room: String(frame.room), body: String(frame.body) });
  }

  subscribe(rooms: string[]): Promise<void> {
    return this.request({ t: 'sub', rooms });
  }

  send(room: string, body: string): Promise<void> {
    return this.request({ t: 'send', room, body });
  }
}

class SocketIoBenchClient implements BenchClient {
  onMessage: (message: Received) => void = () => undefined;
  onClose: (code: number) => void = () => undefined;

  constructor(private readonly socket: Socket) {
    socket.on('msg', (frame: { room: string; body: string }) => this.onMessage(frame));
    socket.on('disconnect', () => this.onClose(1006));
  }

  subscribe(rooms: string[]): Promise<void> {
    return new Promise((resolve) => this.socket.emit('sub', rooms, () => resolve()));
  }

  send(room: string, body: string): Promise<void> {
    return new Promise((resolve) => this.socket.emit('send', { room, body }, () => resolve()));
  }

  close(): void {
    this.socket.close();
  }
}

/** Opens one client, from `localAddress` so tens of thousands of sockets fit the port range. */
export function openClient(protocol: Protocol, url: string, token: string | undefined, localAddress: string): Promise<BenchClient> {
  return new Promise((resolve, reject) => {
    if (protocol === 'socketio') {
      const socket = io(url, { transports: ['websocket'], reconnection: false, forceNew: true, localAddress } as Parameters<typeof io>[1]);
      socket.once('connect', () => resolve(new SocketIoBenchClient(socket)));
      socket.once('connect_error', reject);
      return;
    }
    const ws = new WebSocket(protocol === 'chat' ? `${url}/v1/ws?token=${token}` : url, { localAddress, perMessageDeflate: false });
    ws.once('error', reject);
    if (protocol === 'uws') {
      ws.once('open', () => resolve(new UwsBenchClient(ws)));
      return;
    }
    // Our server greets with hello once the token is accepted.
    ws.once('message', () => resolve(new ChatBenchClient(ws)));
    ws.once('close', (code) => reject(new Error(`closed ${code} before hello`)));
  });
}
