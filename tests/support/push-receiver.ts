import { createServer, type IncomingMessage, type Server } from 'node:http';

/** One (device, message) pair a push is due for. */
export interface DuePush {
  device: string;
  messageId: string;
}

/**
 * A webhook push receiver that counts, per (device, message), the distinct deliveries it got (by
 * `webhook-id`) and the requests that carried them. A repeat with the same `webhook-id` is the
 * retry after a crash at the moment of delivery, which a receiver drops; a second `webhook-id`
 * for the same pair is a doubled push. Used by the push fault test and the fault runner.
 */
export class PushReceiver {
  url = '';
  /** Requests in flight (the answer not yet written). */
  inFlight = 0;
  requests = 0;
  private server: Server | undefined;
  private readonly deliveries = new Map<string, Set<string>>();
  /** When each pair was first delivered (ms since the epoch). */
  private readonly firstDelivered = new Map<string, number>();
  private readonly waiters = new Set<() => void>();
  private delayMs = 0;

  /** Holds every answer this long (a worker can then be killed mid-delivery). */
  answerAfter(ms: number): void {
    this.delayMs = ms;
  }

  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => void this.receive(req).then(() => res.writeHead(200).end('{}')));
    await new Promise<void>((resolve) => this.server?.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}/push`;
    return this;
  }

  private async receive(req: IncomingMessage): Promise<void> {
    this.inFlight++;
    this.requests++;
    this.notify();
    let raw = '';
    for await (const chunk of req) raw += String(chunk);
    try {
      const body = JSON.parse(raw) as { type?: string; device_token?: string; message_ids?: string[] };
      const id = String(req.headers['webhook-id'] ?? '');
      if (body.type === 'message' && body.device_token) {
        for (const messageId of body.message_ids ?? []) {
          const key = pairKey(body.device_token, messageId);
          if (!this.firstDelivered.has(key)) this.firstDelivered.set(key, Date.now());
          const ids = this.deliveries.get(key) ?? new Set<string>();
          ids.add(id);
          this.deliveries.set(key, ids);
        }
      }
      if (this.delayMs) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    } finally {
      this.inFlight--;
      this.notify();
    }
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  /** Distinct deliveries (webhook ids) of one pair. */
  count(push: DuePush): number {
    return this.deliveries.get(pairKey(push.device, push.messageId))?.size ?? 0;
  }

  /** When the pair was first delivered (ms since the epoch), or undefined. */
  firstDeliveredAt(push: DuePush): number | undefined {
    return this.firstDelivered.get(pairKey(push.device, push.messageId));
  }

  /** Of the pushes due: those never delivered, and those delivered under two or more ids. */
  tally(due: readonly DuePush[]): { missing: DuePush[]; doubled: DuePush[] } {
    return { missing: due.filter((p) => this.count(p) === 0), doubled: due.filter((p) => this.count(p) > 1) };
  }

  /** Resolves when `test` holds (checked on every request), or rejects after `timeoutMs`. */
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

const pairKey = (device: string, messageId: string) => `${device}\u0000${messageId}`;
