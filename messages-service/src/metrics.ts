import { declareMetrics, type Registry } from '@chat/shared/ops';
import type { Pool } from 'pg';
import { oldestOutboxAgeSeconds, outboxDepth } from './db/outbox-repository.js';

/** The outbox's Prometheus metrics (publish after commit and the relay): what is published, how late, and what still waits. */
export function createOutboxMetrics(registry: Registry, pool: Pool) {
  const declare = declareMetrics(registry);
  const published = declare.counter('chat_outbox_published_total', 'Room events handed to JetStream');
  const lag = declare.histogram(
    'chat_outbox_lag_seconds',
    'Commit to JetStream ack: per event published by its writer, per batch (its oldest event) published by the relay',
    [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
  );
  declare.scraped('chat_outbox_oldest_unpublished_seconds', 'Age of the oldest room event not yet handed to JetStream (0 when none)', () =>
    oldestOutboxAgeSeconds(pool),
  );
  declare.scraped('chat_outbox_depth', 'Room events committed but not yet handed to JetStream', () => outboxDepth(pool));
  return {
    onPublished: (count: number, oldestAgeMs: number) => {
      published.inc(count);
      lag.observe(oldestAgeMs / 1000);
    },
  };
}
