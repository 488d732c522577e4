import type { NatsConnection } from 'nats';
import { Counter, type Registry } from '../ops/metrics.js';

/** This process's NATS traffic, from the client's own counters (the server side: nats-server's monitoring). */
export function registerNatsClientMetrics(registry: Registry, nc: NatsConnection): void {
  const counter = (name: string, help: string, read: (stats: ReturnType<NatsConnection['stats']>) => number) => {
    const metric: Counter = new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        // The client's totals only grow: set the counter to them.
        metric.reset();
        metric.inc(read(nc.stats()));
      },
    });
  };
  counter('chat_nats_client_messages_in_total', 'Messages this process received from NATS', (s) => s.inMsgs);
  counter('chat_nats_client_messages_out_total', 'Messages this process sent to NATS', (s) => s.outMsgs);
  counter('chat_nats_client_bytes_in_total', 'Bytes this process received from NATS', (s) => s.inBytes);
  counter('chat_nats_client_bytes_out_total', 'Bytes this process sent to NATS', (s) => s.outBytes);
}
