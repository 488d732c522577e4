import { REPLY_TO_SEQ_HEADER } from '@chat/shared';
import type { Logger } from '@chat/shared/logging';
import { subjects, toNatsHeaders } from '@chat/shared/nats';
import { extractTraceContext, injectTraceContext, inSpan, SpanKind } from '@chat/shared/telemetry';
import type { JetStreamClient } from 'nats';
import type pg from 'pg';
import { type CommittedEvent, clearOutbox } from '../db/outbox-repository.js';

const encoder = new TextEncoder();

/** One event to JetStream, in a producer span that continues the trace of the request that wrote it. */
export function publishEvent(js: JetStreamClient, namespace: string, event: CommittedEvent): Promise<unknown> {
  const subject = subjects.roomEvents(namespace, event.room_id);
  const parent = extractTraceContext(event.trace_context ? { traceparent: event.trace_context } : undefined);
  return inSpan(
    `publish ${subject}`,
    {
      kind: SpanKind.PRODUCER,
      parent,
      attributes: {
        'messaging.system': 'nats',
        'messaging.destination.name': subject,
        'messaging.operation.type': 'publish',
        'chat.room_id': event.room_id,
        'chat.seq': event.seq,
      },
    },
    () => {
      const carried = injectTraceContext({});
      if (event.reply_to_seq !== null) carried[REPLY_TO_SEQ_HEADER] = String(event.reply_to_seq);
      const headers = toNatsHeaders(carried);
      // `<room>:<seq>` as the de-duplication id: a relay re-publish of the same event is dropped.
      return js.publish(subject, encoder.encode(event.event), { msgID: `${event.room_id}:${event.seq}`, headers });
    },
  );
}

export interface CommitPublisherOptions {
  namespace: string;
  /** How long acknowledged ids are collected before one delete clears them from the outbox. */
  clearMs: number;
  logger: Logger;
  /** Per acknowledged event, with the time from its commit to JetStream's ack. */
  onPublished?: (count: number, sinceCommitMs: number) => void;
}

/**
 * Publishes events right after the commit that wrote them, from the process that committed
 * them: no outbox read and no relay hop on the way to subscribers. Publishes are written to the
 * NATS connection in call order, so one batch's events of a room leave in seq order. What
 * JetStream acknowledges is cleared from the outbox in batches; what it does not (NATS down, this
 * process dies) stays there, and the relay publishes it once the grace period has passed.
 */
export class CommitPublisher {
  private toClear: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private clearing: Promise<void> = Promise.resolve();
  private inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly js: JetStreamClient,
    private readonly pool: Pick<pg.Pool, 'query'>,
    private readonly options: CommitPublisherOptions,
  ) {}

  publish(events: CommittedEvent[]): void {
    const committedAt = performance.now();
    for (const event of events) {
      const sent = publishEvent(this.js, this.options.namespace, event).then(
        () => {
          this.options.onPublished?.(1, performance.now() - committedAt);
          this.toClear.push(event.id);
          this.timer ??= setTimeout(() => this.clear(), this.options.clearMs);
        },
        (error: unknown) => {
          // Left in the outbox: the relay publishes it after the grace period, in order with the room's others.
          this.options.logger.warn({ err: error, room_id: event.room_id, seq: event.seq }, 'publish after commit failed; the relay will');
        },
      );
      this.inFlight.add(sent);
      void sent.finally(() => this.inFlight.delete(sent));
    }
  }

  /** Waits for publishes in flight and clears what they published. */
  async stop(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
    await this.clear();
  }

  private clear(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const ids = this.toClear;
    this.toClear = [];
    this.clearing = this.clearing.then(() =>
      // A failed clear only leaves rows for the relay, which re-publishes (dropped as duplicates).
      clearOutbox(this.pool, ids).catch((error: unknown) => this.options.logger.warn({ err: error }, 'outbox clear failed')),
    );
    return this.clearing;
  }
}
