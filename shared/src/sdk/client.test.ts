import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChatClient, type Frame } from './client.js';
import { memoryOutbox, type WebSocketLike } from './types.js';

/** One fake socket: the test plays the server through `reply`, `push` and `drop`. */
class FakeSocket implements WebSocketLike {
  readyState = 0;
  readonly sent: Frame[] = [];
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;

  constructor(
    readonly url: string,
    private readonly server: FakeServer,
  ) {}

  send(data: string): void {
    const frame = JSON.parse(data) as Frame;
    this.sent.push(frame);
    this.server.handle(this, frame);
  }

  close(code = 1000, reason = ''): void {
    this.drop(code, reason);
  }

  open(userId = 'me'): void {
    this.readyState = 1;
    this.onopen?.({});
    this.push({ type: 'hello', user_id: userId, heartbeat_ms: 25_000 });
  }

  push(frame: Record<string, unknown>): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }

  drop(code: number, reason = ''): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
}

class FakeServer {
  readonly sockets: FakeSocket[] = [];
  /** Answers a frame; the default acks everything with empty data. */
  respond: (socket: FakeSocket, frame: Frame) => void = (socket, frame) => socket.push({ type: 'ack', id: frame.id, data: {} });

  create = (url: string): WebSocketLike => {
    const socket = new FakeSocket(url, this);
    this.sockets.push(socket);
    return socket;
  };

  handle(socket: FakeSocket, frame: Frame): void {
    this.respond(socket, frame);
  }

  get last(): FakeSocket {
    const socket = this.sockets.at(-1);
    if (!socket) throw new Error('no socket yet');
    return socket;
  }
}

let server: FakeServer;
let unreadCalls: number;

function client(options: Partial<ConstructorParameters<typeof ChatClient>[0]> = {}) {
  let n = 0;
  return new ChatClient({
    url: 'ws://chat.test',
    httpUrl: 'http://chat.test',
    token: 'tok',
    createSocket: server.create,
    random: () => 0, // jitter at its floor: delays are exactly 50% of each step
    newId: () => `cmid-${++n}`,
    requestTimeoutMs: 1000,
    fetch: (async () => {
      unreadCalls++;
      return new Response(JSON.stringify({ total: 3, rooms: [{ room_id: 'r', unread_count: 3 }] }), { status: 200 });
    }) as typeof fetch,
    ...options,
  });
}

const flush = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => {
  vi.useFakeTimers();
  server = new FakeServer();
  unreadCalls = 0;
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ChatClient', () => {
  it('connects with the token in the URL and resolves on hello', async () => {
    const chat = client();
    const connected = chat.connect();
    await flush();
    expect(server.last.url).toBe('ws://chat.test/v1/ws?token=tok');
    server.last.open('alice');
    await connected;
    expect(chat.status).toBe('open');
    expect(chat.user).toBe('alice');
  });

  it('correlates acks and errors with requests, and times out unanswered ones', async () => {
    server.respond = (socket, frame) => {
      if (frame.type === 'ping') socket.push({ type: 'ack', id: frame.id, data: { pong: true } });
      if (frame.type === 'typing')
        socket.push({ type: 'error', id: frame.id, code: 'rate_limited', message: 'slow down', retry_after_ms: 700 });
    };
    const chat = client();
    const connected = chat.connect();
    await flush();
    server.last.open();
    await connected;
    await expect(chat.request({ type: 'ping' })).resolves.toEqual({ pong: true });
    await expect(chat.typing('r')).rejects.toMatchObject({ code: 'rate_limited', retryAfterMs: 700, transient: true });
    const silent = chat.request({ type: 'read', room_id: 'r', seq: 1 });
    const outcome = expect(silent).rejects.toMatchObject({ code: 'timeout' });
    await vi.advanceTimersByTimeAsync(1000);
    await outcome;
  });

  it('reconnects with jittered exponential back-off and stops on 4001', async () => {
    const chat = client();
    void chat.connect().catch(() => undefined);
    await flush();
    server.last.open();
    await flush();
    server.last.drop(1012);
    expect(chat.status).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(249);
    expect(server.sockets).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.sockets).toHaveLength(2); // 50% of 500 ms
    server.last.drop(1006);
    await vi.advanceTimersByTimeAsync(499);
    expect(server.sockets).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.sockets).toHaveLength(3); // 50% of 1000 ms
    server.last.drop(4001, 'invalid token');
    expect(chat.status).toBe('unauthenticated');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(server.sockets).toHaveLength(3);
    expect(chat.backoffDelay(20)).toBe(15_000); // capped at 30 s, then jittered
  });

  it('resumes every subscribed room with since_seq = the last applied seq after a reconnect', async () => {
    server.respond = (socket, frame) => {
      if (frame.type === 'subscribe') socket.push({ type: 'ack', id: frame.id, data: { room_id: frame.room_id, last_seq: 5, online: [] } });
    };
    const chat = client();
    const events: number[] = [];
    chat.on('event', (frame) => events.push(frame.seq as number));
    const connected = chat.connect();
    await flush();
    server.last.open();
    await connected;
    await chat.subscribe('room-1');
    for (const seq of [6, 7]) server.last.push({ type: 'message.created', room_id: 'room-1', seq, message: { sender_id: 'x' } });
    server.last.drop(1012);
    await vi.advanceTimersByTimeAsync(250);
    server.last.open();
    await flush();
    expect(server.last.sent.find((f) => f.type === 'subscribe')).toMatchObject({ room_id: 'room-1', since_seq: 7 });
    expect(events).toEqual([6, 7]);
  });

  it('applies events once and in order, and repairs a gap by replaying from the last applied seq', async () => {
    const chat = client();
    const seen: number[] = [];
    chat.on('event', (frame) => seen.push(frame.seq as number));
    server.respond = (socket, frame) => {
      if (frame.type !== 'subscribe') return;
      socket.push({ type: 'ack', id: frame.id, data: { room_id: 'r', last_seq: 8, online: [] } });
      if (frame.since_seq === 6) for (const seq of [7, 8]) socket.push({ type: 'message.updated', room_id: 'r', seq, message: {} });
    };
    const connected = chat.connect();
    await flush();
    server.last.open();
    await connected;
    await chat.subscribe('r', { sinceSeq: 5 });
    const push = (seq: number) => server.last.push({ type: 'message.created', room_id: 'r', seq, message: { sender_id: 'me' } });
    push(6);
    push(6); // a duplicate is dropped
    push(8); // gap: 7 missing → subscribe since 6, which replays 7 and 8
    await flush();
    push(8); // the live copy of 8 arrives late: dropped
    expect(server.last.sent.filter((f) => f.type === 'subscribe').map((f) => f.since_seq)).toEqual([5, 6]);
    expect(seen).toEqual([6, 7, 8]);
    expect(chat.lastSeq('r')).toBe(8);
  });

  it('keeps sends pending while offline, retries with the same client_msg_id, and marks refusals failed', async () => {
    const outbox = memoryOutbox();
    const chat = client({ outbox });
    const states: string[] = [];
    chat.on('outbox', (entry) => states.push(`${entry.client_msg_id}:${entry.state}`));
    let ignoreFirst = true;
    server.respond = (socket, frame) => {
      if (frame.type !== 'message.send') return;
      if (frame.body === 'too long') {
        socket.push({ type: 'error', id: frame.id, code: 'invalid', message: 'message body is longer than 4000 characters' });
        return;
      }
      if (ignoreFirst) {
        ignoreFirst = false; // the server never answers the first attempt: a timeout
        return;
      }
      socket.push({ type: 'ack', id: frame.id, data: { message: { id: 'm1', client_msg_id: frame.client_msg_id, seq: 1 } } });
    };
    void chat.connect().catch(() => undefined);
    await flush();
    const offline = chat.send('r', { body: 'written offline' });
    expect(offline.state).toBe('pending');
    expect(outbox.load()).toHaveLength(1); // persisted before anything went out
    server.last.open();
    await flush();
    const first = server.last.sent.filter((f) => f.type === 'message.send');
    expect(first).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1000); // timeout
    await vi.advanceTimersByTimeAsync(500); // back-off, then the retry
    const attempts = server.last.sent.filter((f) => f.type === 'message.send');
    expect(attempts.map((f) => f.client_msg_id)).toEqual(['cmid-1', 'cmid-1']);
    expect(chat.outbox()[0]).toMatchObject({ state: 'sent', attempts: 2, message: { id: 'm1' } });
    chat.send('r', { body: 'too long' });
    await flush();
    expect(chat.outbox()[1]).toMatchObject({ state: 'failed', error: { code: 'invalid' } });
    expect(states).toEqual(['cmid-1:pending', 'cmid-1:pending', 'cmid-1:sent', 'cmid-2:pending', 'cmid-2:failed']);
  });

  it('reads a thread and the top level through REST, and replies through the outbox with thread_root_id', async () => {
    const urls: string[] = [];
    const chat = client({
      fetch: (async (url: string) => {
        urls.push(url);
        return new Response(JSON.stringify({ items: [], next_cursor: null }), { status: 200 });
      }) as typeof fetch,
    });
    await chat.thread('room-1', 'root-1', 10, 20);
    await chat.history('room-1', undefined, 50, { topLevel: true });
    expect(urls).toEqual([
      'http://chat.test/v1/rooms/room-1/messages?limit=20&before_seq=10&thread_root_id=root-1',
      'http://chat.test/v1/rooms/room-1/messages?limit=50&top_level=true',
    ]);
    const entry = chat.reply('room-1', 'root-1', { body: 'in the thread' });
    expect(entry.draft).toEqual({ body: 'in the thread', thread_root_id: 'root-1' });
  });

  it('fetches absolute unread counts on connect and after read acks', async () => {
    server.respond = (socket, frame) => {
      if (frame.type === 'read') socket.push({ type: 'ack', id: frame.id, data: { room_id: 'r', last_read_seq: 4, unread_count: 0 } });
    };
    const chat = client();
    const totals: number[] = [];
    chat.on('unread', (summary) => totals.push(summary.total));
    const connected = chat.connect();
    await flush();
    server.last.open();
    await connected;
    await flush();
    expect(unreadCalls).toBe(1);
    await chat.markRead('r', 4);
    await flush();
    expect(unreadCalls).toBe(2);
    expect(totals).toEqual([3, 3]);
  });
});
