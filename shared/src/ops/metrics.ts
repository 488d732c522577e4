import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

export { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** One registry per process, with Node's default metrics and the service name as a label. */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

export interface RpcMetrics {
  /** Records one answered request: `outcome` is `ok` or the contract error code. */
  observe(endpoint: { name: string }, outcome: string, seconds: number): void;
}

/** Latency and outcome of the NATS requests a service answers. */
export function createRpcMetrics(registry: Registry): RpcMetrics {
  const metrics = {
    served: new Histogram({
      name: 'chat_rpc_server_duration_seconds',
      help: 'Time to answer a NATS request, by endpoint and outcome (ok or an error code)',
      labelNames: ['endpoint', 'outcome'],
      buckets: [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    errors: new Counter({
      name: 'chat_rpc_server_errors_total',
      help: 'NATS requests answered with an error, by endpoint and code',
      labelNames: ['endpoint', 'code'],
      registers: [registry],
    }),
  };
  return {
    observe(endpoint, outcome, seconds) {
      metrics.served.observe({ endpoint: endpoint.name, outcome }, seconds);
      if (outcome !== 'ok') metrics.errors.inc({ endpoint: endpoint.name, code: outcome });
    },
  };
}

/** Latency and outcome of the NATS requests a process makes, by endpoint (`outcome`: ok or an error code). */
export function createRpcClientMetrics(
  registry: Registry,
): (endpoint: { service: string; name: string }, outcome: string, seconds: number) => void {
  const histogram = new Histogram({
    name: 'chat_rpc_client_duration_seconds',
    help: 'Time from NATS request to reply, by endpoint and outcome (unavailable = timeout or no responder)',
    labelNames: ['endpoint', 'outcome'],
    buckets: [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  return (endpoint, outcome, seconds) => histogram.observe({ endpoint: `${endpoint.service}.${endpoint.name}`, outcome }, seconds);
}
