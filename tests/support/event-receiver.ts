import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';

/** One request the receiver got. */
export interface ReceivedEvent {
  webhookId: string;
  timestamp: string;
  signature: string;
  chatSignature: string;
  raw: string;
  body: { id: string; type: string; room_id: string; seq?: number; occurred_at: string; data: Record<string, unknown> };
  /** The status it was answered with. */
  status: number;
}

/**
 * A host application's event webhook receiver for tests: records every request with its raw
 * body and headers, answers with the status `answer` picks (200 unless told otherwise), and
 * verifies signatures the way DESIGN 10.1 describes them, written out here from the
 * specification (not with the stack's own signer).
 */
export class EventReceiver {
  url = '';
  readonly received: ReceivedEvent[] = [];
  answer: (event: ReceivedEvent['body']) => number = () => 200;
  delayMs = 0;
  private server: Server | undefined;
  private readonly waiters = new Set<() => void>();

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      void this.receive(req).then((status) => res.writeHead(status, { 'content-type': 'application/json' }).end('{}'));
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}/events`;
    return this;
  }

  private async receive(req: IncomingMessage): Promise<number> {
    let raw = '';
    for await (const chunk of req) raw += String(chunk);
    const body = JSON.parse(raw) as ReceivedEvent['body'];
    if (this.delayMs) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    const status = this.answer(body);
    this.received.push({
      webhookId: String(req.headers['webhook-id'] ?? ''),
      timestamp: String(req.headers['webhook-timestamp'] ?? ''),
      signature: String(req.headers['webhook-signature'] ?? ''),
      chatSignature: String(req.headers['x-chat-signature'] ?? ''),
      raw,
      body,
      status,
    });
    for (const waiter of [...this.waiters]) waiter();
    return status;
  }

  /** Requests answered 2xx, in arrival order. */
  delivered(): ReceivedEvent[] {
    return this.received.filter((r) => r.status < 300);
  }

  /** Distinct event ids delivered (answered 2xx). */
  deliveredIds(): Set<string> {
    return new Set(this.delivered().map((r) => r.webhookId));
  }

  until(test: () => boolean, timeoutMs: number, describe: () => string = () => ''): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!test()) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`not reached within ${timeoutMs} ms ${describe()}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  stop(): Promise<void> {
    this.server?.closeAllConnections();
    return new Promise((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

/**
 * Standard Webhooks verification as a receiver does it: HMAC-SHA256 over `id.timestamp.body`,
 * keyed with the base64 after `whsec_` (or the secret's UTF-8 bytes), compared in constant time
 * with each `v1,` signature; the timestamp within five minutes. Also the older X-Chat-Signature.
 */
export function verifiesAsStandardWebhook(event: ReceivedEvent, secret: string): boolean {
  const key = secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret, 'utf8');
  const expected = `v1,${createHmac('sha256', key).update(`${event.webhookId}.${event.timestamp}.${event.raw}`).digest('base64')}`;
  const fresh = Math.abs(Date.now() / 1000 - Number(event.timestamp)) < 300;
  const matches = event.signature
    .split(' ')
    .some((candidate) => candidate.length === expected.length && timingSafeEqual(Buffer.from(candidate), Buffer.from(expected)));
  const legacy = `sha256=${createHmac('sha256', secret).update(event.raw).digest('hex')}`;
  return fresh && matches && event.chatSignature === legacy && event.webhookId === event.body.id;
}
