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

  /** Settles the request `id` names: resolved without an error code, rejected with one. */
  protected settle(id: string | undefined, errorCode?: string): void {
    const pending = id === undefined ? undefined : this.pending.get(id);
    if (!pending || id === undefined) return;
    this.pending.delete(id);
    if (errorCode === undefined) pending.resolve();
    else pending.reject(new Error(errorCode));
  }

  close(): void {
    this.ws.close();
  }
}

/** Our socket protocol (DESIGN.md section 6), minimal: no outbox, just frames. */
class ChatBenchClient extends CorrelatedWsClient {
  protected receive(data: unknown): void {
    const frame = data as {
      type: string;
      id?: string;
      code?: string;
      room_id?: string;
      seq?: number;
      message?: { body: string; id: string };
      data?: { room_id?: string; last_seq?: number };
    };
    if (frame.type === 'ack' && frame.data?.room_id !== undefined && frame.data.last_seq !== undefined) {
      this.onPosition(frame.data.room_id, frame.data.last_seq);
    }
    if (frame.type === 'ack') this.settle(frame.id);
    else if (frame.type === 'error') this.settle(frame.id, String(frame.code));
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

  send(room: string, body: string, key: string): Promise<void> {
    return this.request({ type: 'message.send', room_id: room, client_msg_id: key, body });
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
