import type { Logger } from '@chat/shared/logging';
import {
  durables,
  ensureRoomEventStream,
  fromNatsHeaders,
  type RunningConsumer,
  runDurableConsumer,
  streams,
  subjects,
} from '@chat/shared/nats';
import { extractTraceContext, inSpan, SpanKind } from '@chat/shared/telemetry';
import { trace } from '@opentelemetry/api';
import type { Kysely } from 'kysely';
import type { JetStreamManager, NatsConnection } from 'nats';
import { z } from 'zod';
import type { MessagesDatabase } from '../db/schema.js';
import { indexMessages } from '../db/search-index.js';

/** What the indexer reads of a room event (every persisted event carries its message). */
const IndexedEventSchema = z.object({ type: z.string(), message: z.object({ id: z.uuid() }) });

/** Event types that change what a message's text is (reactions do not). */
const TEXT_EVENTS = new Set(['message.created', 'message.updated', 'message.deleted']);

export interface SearchIndexerOptions {
  namespace: string;
  streamReplicas: number;
  /** How long a batch waits for more events once the first has arrived (fewer, larger statements). */
  lingerMs: number;
  logger: Logger;
}

/**
 * Keeps `messages.search_docs` in step with the room event stream, off the send path: every
 * replica runs one on the shared durable, and each batch of events is one statement that indexes
 * their messages as they are now (see indexMessages). A failed batch is redelivered whole.
 */
export function runSearchIndexer(
  nc: NatsConnection,
  db: Kysely<MessagesDatabase>,
  options: SearchIndexerOptions,
): Promise<RunningConsumer> {
  const { namespace, logger } = options;
  return runDurableConsumer(nc, {
    stream: streams.roomEvents(namespace),
    durable: durables.searchIndex(namespace),
    filterSubject: subjects.allRoomEvents(namespace),
    logger,
    ensureStream: (jsm) => ensureRoomEventStream(jsm, namespace, options.streamReplicas),
    lingerMs: options.lingerMs,
    // A batch serves many sends' traces: it gets a root span of its own, linked to each of them
    // (as a send batch does), so its SQL never shows up inside a request's trace.
    spanPerMessage: true,
    async handleBatch(messages) {
      const ids = new Set<string>();
      for (const message of messages) {
        const parsed = IndexedEventSchema.safeParse(message.json());
        // A malformed event can never succeed; retrying it forever would block the consumer.
        if (!parsed.success) logger.error({ subject: message.subject }, 'search indexer skipping malformed room event');
        else if (TEXT_EVENTS.has(parsed.data.type)) ids.add(parsed.data.message.id);
      }
      const links = messages.flatMap((m) => {
        const context = trace.getSpanContext(extractTraceContext(fromNatsHeaders(m.headers)));
        return context ? [{ context }] : [];
      });
      await inSpan(
        'messages.search index batch',
        { kind: SpanKind.CONSUMER, root: true, links, attributes: { 'messaging.batch.message_count': messages.length } },
        () => indexMessages(db, [...ids]),
      );
    },
  });
}

/**
 * How far the search indexer has got, for searches that should see what was sent just before
 * them: the stream position of the last event published when asked, and the consumer's ack floor
 * (everything up to it is indexed).
 */
export class SearchIndexProgress {
  /** Made once: each jetstreamManager() call asks JetStream for the account first. */
  private jsm: Promise<JetStreamManager> | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly namespace: string,
    private readonly options: { pollMs: number },
  ) {}

  /**
   * Resolves once every event published before the call is indexed, or after `maxWaitMs`
   * (an indexer that is down or far behind delays searches by at most that; they then answer
   * from what is indexed). True when caught up.
   */
  async waitUntilCaughtUp(maxWaitMs: number): Promise<boolean> {
    const deadline = performance.now() + maxWaitMs;
    this.jsm ??= this.nc.jetstreamManager().catch((error: unknown) => {
      this.jsm = undefined;
      throw error;
    });
    let jsm: JetStreamManager;
    try {
      jsm = await this.jsm;
    } catch {
      return false;
    }
    const stream = streams.roomEvents(this.namespace);
    const durable = durables.searchIndex(this.namespace);
    let target: number | undefined;
    for (;;) {
      try {
        const info = await jsm.consumers.info(stream, durable);
        // Everything the stream held at the first answer: delivered so far plus still pending.
        target ??= info.delivered.stream_seq + info.num_pending;
        if (info.ack_floor.stream_seq >= target) return true;
      } catch {
        // No answer from JetStream: wait no longer than a caught-up indexer would have made us.
        return false;
      }
      const left = deadline - performance.now();
      if (left <= 0) return false;
      await new Promise((resolve) => setTimeout(resolve, Math.min(this.options.pollMs, left)));
    }
  }
}
