import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createH2Server, type Http2Server, type ServerHttp2Stream } from 'node:http2';

export interface RecordedPush {
  path: string;
  headers: Record<string, string>;
  raw: string;
  body: Record<string, unknown>;
  at: number;
}

type Reply = { status: number; body?: string; delayMs?: number };

/**
 * A provider stand-in: records every request, answers from per-key scripts (a key is the device
 * token), and lets tests await the n-th request that matches.
 */
abstract class FakeProvider {
  readonly received: RecordedPush[] = [];
  private readonly scripts = new Map<string, Reply[]>();
  private readonly waiters: Array<{ match: (p: RecordedPush) => boolean; count: number; resolve: (p: RecordedPush[]) => void }> = [];
  url = '';

  /** The next answers for a key, in order; afterwards 200. */
  script(key: string, ...replies: Reply[]): void {
    this.scripts.set(key, replies);
  }

  protected nextReply(key: string): Reply {
    return this.scripts.get(key)?.shift() ?? { status: 200, body: '{}' };
  }

  protected record(push: RecordedPush): void {
    this.received.push(push);
    for (const waiter of [...this.waiters]) {
      const matching = this.received.filter(waiter.match);
      if (matching.length >= waiter.count) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(matching);
      }
    }
  }

  /** Resolves once `count` recorded requests match. */
  waitFor(match: (p: RecordedPush) => boolean, count = 1, timeoutMs = 15_000): Promise<RecordedPush[]> {
    const matching = this.received.filter(match);
    if (matching.length >= count) return Promise.resolve(matching);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(`fewer than ${count} matching pushes in ${timeoutMs} ms; got ${JSON.stringify(this.received.map((p) => p.body))}`),
          ),
        timeoutMs,
      );
      this.waiters.push({
        match,
        count,
        resolve: (pushes) => {
          clearTimeout(timer);
          resolve(pushes);
        },
      });
    });
  }

  matching(match: (p: RecordedPush) => boolean): RecordedPush[] {
    return this.received.filter(match);
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let raw = '';
    req.on('data', (c: Buffer) => {
      raw += c.toString();
    });
    req.on('end', () => resolve(raw));
  });
}

const parse = (raw: string): Record<string, unknown> => {
  try {
    return JSON.parse(raw) as Record<string, unknown>;
  } catch {
    return { raw };
  }
};

/** Webhook receiver; scripted by device token. */
export class FakeWebhook extends FakeProvider {
  private server: Server | undefined;

  async start(): Promise<this> {
    this.server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
      const raw = await readBody(req);
      const body = parse(raw);
      this.record({ path: req.url ?? '', headers: req.headers as Record<string, string>, raw, body, at: Date.now() });
      const reply = this.nextReply(String(body.device_token));
      if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
      if (!res.destroyed) res.writeHead(reply.status, { 'content-type': 'application/json' }).end(reply.body ?? '{}');
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}/push`;
    return this;
  }

  stop(): Promise<void> {
    this.server?.closeAllConnections();
    return new Promise((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

/** APNs over HTTP/2 (cleartext, prior knowledge); scripted by device token. */
export class FakeApns extends FakeProvider {
  private server: Http2Server | undefined;

  async start(): Promise<this> {
    this.server = createH2Server();
    this.server.on('stream', (stream: ServerHttp2Stream, headers) => {
      let raw = '';
      stream.setEncoding('utf8');
      stream.on('data', (c: string) => {
        raw += c;
      });
      stream.on('end', () => {
        const path = String(headers[':path']);
        const token = decodeURIComponent(path.replace('/3/device/', ''));
        this.record({
          path,
          headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, String(v)])),
          raw,
          body: parse(raw),
          at: Date.now(),
        });
        const reply = this.nextReply(token);
        stream.respond({ ':status': reply.status, 'content-type': 'application/json' });
        stream.end(reply.body ?? '');
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

/** FCM HTTP v1 plus its OAuth token endpoint; sends scripted by device token. */
export class FakeFcm extends FakeProvider {
  private server: Server | undefined;
  readonly tokenRequests: string[] = [];

  async start(): Promise<this> {
    this.server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
      const raw = await readBody(req);
      if (req.url === '/token') {
        this.tokenRequests.push(raw);
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ access_token: 'fake-access-token', expires_in: 3600 }));
        return;
      }
      const body = parse(raw);
      this.record({ path: req.url ?? '', headers: req.headers as Record<string, string>, raw, body, at: Date.now() });
      const token = String((body.message as { token?: string } | undefined)?.token);
      const reply = this.nextReply(token);
      res.writeHead(reply.status, { 'content-type': 'application/json' }).end(reply.body ?? '{"name":"projects/p/messages/1"}');
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
