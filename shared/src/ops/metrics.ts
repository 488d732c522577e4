import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Reads a gauge's value at scrape time; `undefined` (or a failed read) keeps the last value. */
export type ScrapeRead = () => number | undefined | Promise<number | undefined>;

/**
 * The metric declarations of one process, each one line of name and help: a declaration list
 * reads as the catalogue it is (docs/operations.md lists the same names for dashboards).
 */
export function declareMetrics(registry: Registry) {
  const registers = [registry];
  return {
    counter: <L extends string = string>(name: string, help: string, labelNames: readonly L[] = []) =>
      new Counter<L>({ name, help, labelNames, registers }),
    gauge: <L extends string = string>(name: string, help: string, labelNames: readonly L[] = []) =>
      new Gauge<L>({ name, help, labelNames, registers }),
    histogram: <L extends string = string>(name: string, help: string, buckets: number[], labelNames: readonly L[] = []) =>
      new Histogram<L>({ name, help, buckets, labelNames, registers }),
    /** A gauge set from `read` at each scrape (a depth, an age, a server setting). */
    scraped: (name: string, help: string, read: ScrapeRead) =>
      new Gauge({
        name,
        help,
        registers,
        async collect() {
          const value = await Promise.resolve()
            .then(read)
            .catch(() => undefined);
          if (value !== undefined) this.set(value);
        },
      }),
    /** A labelled gauge whose series `collect` sets at each scrape. */
    scrapedByLabel: <L extends string>(
      name: string,
      help: string,
      labelNames: readonly L[],
      collect: (gauge: Gauge<L>) => Promise<void> | void,
    ) =>
      new Gauge<L>({
        name,
        help,
        labelNames,
        registers,
        async collect() {
          await collect(this);
        },
      }),
  };
}

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
  const declare = declareMetrics(registry);
  const metrics = {
    served: declare.histogram(
      'chat_rpc_server_duration_seconds',
      'Time to answer a NATS request, by endpoint and outcome (ok or an error code)',
      [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      ['endpoint', 'outcome'],
    ),
    errors: declare.counter('chat_rpc_server_errors_total', 'NATS requests answered with an error, by endpoint and code', [
      'endpoint',
      'code',
    ]),
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
  const histogram = declareMetrics(registry).histogram(
    'chat_rpc_client_duration_seconds',
    'Time from NATS request to reply, by endpoint and outcome (unavailable = timeout or no responder)',
    [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    ['endpoint', 'outcome'],
  );
  return (endpoint, outcome, seconds) => histogram.observe({ endpoint: `${endpoint.service}.${endpoint.name}`, outcome }, seconds);
}
