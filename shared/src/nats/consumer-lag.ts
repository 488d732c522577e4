import type { NatsConnection } from 'nats';
import { declareMetrics, type Registry } from '../ops/metrics.js';

/**
 * JetStream consumer lag, read from the server's consumer info at every scrape (so a consumer
 * that stopped pulling still shows its growing backlog): `pending` = stream messages not yet
 * delivered, `ack_pending` = delivered and not yet acknowledged, `ack_floor` = the stream
 * sequence below which everything is acknowledged (flat while pending grows = a stuck consumer).
 */
export function registerConsumerLagMetrics(registry: Registry, nc: NatsConnection, stream: string, durables: string[]): void {
  const labelNames = ['stream', 'consumer'] as const;
  const declare = declareMetrics(registry);
  const gauge = (name: string, help: string) => declare.scrapedByLabel(name, help, labelNames, () => refresh());
  const pending = gauge('chat_jetstream_consumer_pending_messages', 'Stream messages not yet delivered to the durable consumer');
  const ackPending = gauge('chat_jetstream_consumer_ack_pending_messages', 'Messages delivered to the durable consumer, not yet acked');
  const ackFloor = gauge('chat_jetstream_consumer_ack_floor_sequence', 'Stream sequence below which the consumer acked everything');
  const up = gauge('chat_jetstream_consumer_info_up', '1 when the last consumer info request was answered, 0 when JetStream did not');

  async function read(): Promise<void> {
    const jsm = await nc.jetstreamManager();
    for (const consumer of durables) {
      const labels = { stream, consumer };
      try {
        const info = await jsm.consumers.info(stream, consumer);
        pending.set(labels, info.num_pending);
        ackPending.set(labels, info.num_ack_pending);
        ackFloor.set(labels, info.ack_floor.stream_seq);
        up.set(labels, 1);
      } catch {
        // No answer (no JetStream leader, NATS down) must not fail the scrape; `up` says so.
        up.set(labels, 0);
      }
    }
  }
  // prom-client collects all metrics of a scrape concurrently: the four gauges share one read.
  let reading: Promise<void> | undefined;
  function refresh(): Promise<void> {
    reading ??= read()
      .catch(() => undefined)
      .finally(() => {
        reading = undefined;
      });
    return reading;
  }
}
