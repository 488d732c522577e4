import WebSocket from 'ws';

export type Frame = Record<string, unknown> & { type: string };

interface Waiter {
  match: (frame: Frame) => boolean;
  resolve: (frame: Frame) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * A socket client for tests: keeps every frame received, awaits frames by predicate (events are
 * awaited, never slept for), correlates requests with their ack or error.
 */
export class TestSocket {
  readonly frames: Frame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly waiters: Waiter[] = [];
  /** Frames already returned by `next`, so each is handed out once, whatever order they came in. */
  private readonly consumed = new Set<number>();
  private nextId = 1;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const frame = JSON.parse(isBinary ? '{"type":"binary"}' : data.toString()) as Frame;
      this.frames.push(frame);
      // A frame goes to the first waiter it matches, once.
      const waiter = this.waiters.find((w) => w.match(frame));
      if (waiter) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        clearTimeout(waiter.timer);
        waiter.resolve(frame);
      }
    });
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    void this.closed.then(({ code }) => {
      for (const waiter of this.waiters.splice(0)) {
        clearTimeout(waiter.timer);
        waiter.reject(new Error(`socket closed (${code}) while waiting for a frame`));
      }
    });
  }

  /** Opens a socket; resolves once open (before `hello`), so tests can also observe refusals. */
  static open(url: string, options: { headers?: Record<string, string> } = {}): Promise<TestSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers: options.headers });
      const client = new TestSocket(ws);
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  /** Opens an authenticated socket and waits for its hello. */
  static async connect(wsUrl: string, token: string): Promise<TestSocket> {
    const client = await TestSocket.open(`${wsUrl}/v1/ws?token=${encodeURIComponent(token)}`);
    await client.next((f) => f.type === 'hello');
    return client;
  }

  /** The first matching frame not yet returned by `next`, already received or still to come. */
  next(match: (frame: Frame) => boolean, timeoutMs = 10_000): Promise<Frame> {
    for (let i = 0; i < this.frames.length; i++) {
      const frame = this.frames[i] as Frame;
      if (!this.consumed.has(i) && match(frame)) {
        this.consumed.add(i);
        return Promise.resolve(frame);
      }
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no matching frame within ${timeoutMs} ms; got: ${JSON.stringify(this.frames.slice(-5))}`));
      }, timeoutMs);
      const waiter: Waiter = {
        match,
        resolve: (frame) => {
          this.consumed.add(this.frames.lastIndexOf(frame));
          resolve(frame);
        },
        reject,
        timer,
      };
      this.waiters.push(waiter);
    });
  }

  send(frame: Record<string, unknown> | string): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Sends a request with a fresh id and resolves with its `ack` or `error` frame. */
  async request(frame: Record<string, unknown>, timeoutMs = 10_000): Promise<Frame> {
    const id = `r${this.nextId++}`;
    const answer = this.next((f) => (f.type === 'ack' || f.type === 'error') && f.id === id, timeoutMs);
    this.send({ ...frame, id });
    return answer;
  }

  /** Like `request`, but fails the test unless the answer is an ack; returns its data. */
  async ack(frame: Record<string, unknown>): Promise<Record<string, unknown>> {
    const answer = await this.request(frame);
    if (answer.type !== 'ack') throw new Error(`expected ack for ${JSON.stringify(frame)}, got ${JSON.stringify(answer)}`);
    return answer.data as Record<string, unknown>;
  }

  /** Persisted events of one room received so far, in arrival order. */
  events(roomId: string): Frame[] {
    return this.frames.filter((f) => f.room_id === roomId && typeof f.seq === 'number' && f.type !== 'ack');
  }

  close(): Promise<{ code: number; reason: string }> {
    this.ws.close();
    return this.closed;
  }
}
