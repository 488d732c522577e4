import type { Logger } from '@chat/shared/logging';
import { WakeSignal } from '@chat/shared/ops';
import { standardWebhookHeaders } from '@chat/shared/webhooks';
import type { Kysely } from 'kysely';
import {
  type ClaimedHostEvent,
  claimDueHostEvents,
  markHostEventDelivered,
  markHostEventFailed,
  pruneDeliveredHostEvents,
} from '../db/host-events-repository.js';
import type { NotifyDatabase } from '../db/schema.js';
import { retryDelayMs } from '../domain/host-events.js';
import { signWebhookBody } from '../providers/webhook.js';

export interface EventWebhookOptions {
  url: string;
  secret: string;
  maxAttempts: number;
  backoffMs: number;
  maxBackoffMs: number;
  timeoutMs: number;
  concurrency: number;
  retentionHours: number;
  /** Longest wait between looks at the queue when nothing wakes the deliverer. */
  pollMs?: number;
  /**
   * When every persisted type is sent: how long a room's next event waits for the one before it
   * (seq - 1) to be queued. After a notifier restart JetStream hands out new events before it
   * redelivers the unacknowledged ones (after the consumer's ack wait), so without the wait a later
   * event could overtake. Unset: no wait (a type filter leaves gaps that never fill).
   */
  seqGapWaitMs?: number;
}

export type AttemptOutcome = 'delivered' | 'retried' | 'dead';

const PRUNE_EVERY_MS = 10 * 60 * 1000;

/** One POST of a queued event: the same body and webhook-id on every attempt, a fresh timestamp and signature. */
export async function postHostEvent(
  event: Pick<ClaimedHostEvent, 'id' | 'payload'>,
  options: Pick<EventWebhookOptions, 'url' | 'secret' | 'timeoutMs'>,
): Promise<string | null> {
  try {
    const response = await fetch(options.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...standardWebhookHeaders(options.secret, event.id, event.payload),
        'x-chat-signature': signWebhookBody(event.payload, options.secret),
      },
      body: event.payload,
      // A redirect is an answer that is not 2xx, like any other: it is retried, not followed.
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    await response.arrayBuffer().catch(() => undefined);
    return response.status >= 200 && response.status < 300 ? null : `HTTP ${response.status}`;
  } catch (error) {
    return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  }
}

/**
 * Delivers the event webhook's queue (notify.host_events): up to `concurrency` lanes at once,
 * each lane one event at a time in order. An attempt leases its row for longer than the request
 * may take, so a worker killed mid-request leaves it to be tried again (same webhook-id) once the
 * lease runs out; every replica runs one and they share the lanes through the leases.
 */
export class EventWebhookDeliverer {
  private inFlight = new Set<Promise<void>>();
  private stopping = false;
  private loop: Promise<void> | undefined;
  private lastPrune = 0;
  /** Rung when something is queued or a lane moves on; pending = look again before idling. */
  private readonly work = new WakeSignal();
  private readonly leaseMs: number;

  constructor(
    private readonly db: Kysely<NotifyDatabase>,
    private readonly logger: Logger,
    private readonly options: EventWebhookOptions,
    private readonly onAttempt: (outcome: AttemptOutcome, type: string) => void = () => undefined,
  ) {
    this.leaseMs = options.timeoutMs + 10_000;
  }

  start(): void {
    this.loop = this.run();
  }

  /** Something was queued or a lane moved on: look now. */
  wake(): void {
    this.work.ring();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      this.work.clear();
      let claimed = 0;
      const free = this.options.concurrency - this.inFlight.size;
      if (free > 0) {
        try {
          const events = await claimDueHostEvents(this.db, free, this.leaseMs, this.options.seqGapWaitMs);
          claimed = events.length;
          for (const event of events) {
            const attempt = this.attempt(event).finally(() => {
              this.inFlight.delete(attempt);
              this.wake();
            });
            this.inFlight.add(attempt);
          }
          await this.pruneNow();
        } catch (error) {
          this.logger.error({ err: error }, 'event webhook: could not read its queue; retrying');
        }
      }
      // A full claim may leave more due; otherwise wait for a wake-up (queued, finished) or the poll.
      if ((claimed === 0 || claimed < free) && !this.work.pending) await this.work.wait(this.options.pollMs ?? 1000);
    }
    // Attempts in hand finish (their answers are recorded) before the process goes.
    await Promise.allSettled([...this.inFlight]);
  }

  private async attempt(event: ClaimedHostEvent): Promise<void> {
    const error = await postHostEvent(event, this.options);
    try {
      if (error === null) {
        await markHostEventDelivered(this.db, event.id);
        this.onAttempt('delivered', event.type);
      } else if (event.attempts >= this.options.maxAttempts) {
        await markHostEventFailed(this.db, event.id, error, { dead: true });
        this.onAttempt('dead', event.type);
        this.logger.error(
          { event_id: event.id, room_id: event.room_id, type: event.type, attempts: event.attempts, error },
          'event webhook: dead letter after the last attempt (replay: pnpm --filter ./notifier-worker events replay)',
        );
      } else {
        const retryInMs = retryDelayMs(event.attempts, this.options.backoffMs, this.options.maxBackoffMs);
        await markHostEventFailed(this.db, event.id, error, { retryInMs });
        this.onAttempt('retried', event.type);
        this.logger.warn(
          { event_id: event.id, room_id: event.room_id, attempts: event.attempts, retry_in_ms: retryInMs, error },
          'event webhook: attempt failed',
        );
      }
    } catch (dbError) {
      // The lease runs out and the event is tried again under the same webhook-id.
      this.logger.error({ err: dbError, event_id: event.id }, 'event webhook: could not record an attempt');
    }
  }

  private async pruneNow(): Promise<void> {
    if (Date.now() - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = Date.now();
    const pruned = await pruneDeliveredHostEvents(this.db, this.options.retentionHours);
    if (pruned) this.logger.info({ pruned }, 'event webhook: forgot delivered events past retention');
  }
}
