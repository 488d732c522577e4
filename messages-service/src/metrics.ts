import { Counter, Gauge, Histogram, type Registry } from '@chat/shared/ops';
import type { Pool } from 'pg';
import { oldestOutboxAgeSeconds, outboxDepth } from './db/outbox-repository.js';

/** The outbox's Prometheus metrics (publish after commit and the relay): what is published, how late, and what still waits. */
export function createOutboxMetrics(registry: Registry, pool: Pool) {
  const published = new Counter({
    name: 'chat_outbox_published_total',
    help: 'Room events handed to JetStream',
    registers: [registry],
  });
  const lag = new Histogram({
    name: 'chat_outbox_lag_seconds',
    help: 'Commit to JetStream ack: per event published by its writer, per batch (its oldest event) published by the relay',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    registers: [registry],
  });
  new Gauge({
    name: 'chat_outbox_oldest_unpublished_seconds',
    help: 'Age of the oldest room event not yet handed to JetStream (0 when none)',
    registers: [registry],
    async collect() {
      this.set(await oldestOutboxAgeSeconds(pool));
    },
  });
  new Gauge({
    name: 'chat_outbox_depth',
    help: 'Room events committed but not yet handed to JetStream',
    registers: [registry],
    async collect() {
      this.set(await outboxDepth(pool));
    },
  });
  return {
    onPublished: (count: number, oldestAgeMs: number) => {
      published.inc(count);
      lag.observe(oldestAgeMs / 1000);
    },
  };
}
