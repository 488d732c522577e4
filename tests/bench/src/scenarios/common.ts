import { type LoadGen, loopbackAddresses, split } from '../harness.js';
import type { Target } from '../targets.js';

export interface Options {
  quick: boolean;
  /** Load-generator processes per run (each holds its share of the sockets). */
  generatorCount: number;
  infra: { adminDatabaseUrl: string; natsUrl: string; redisUrl: string };
  sizes: Record<string, number>;
}

/** One figure of a scenario for one target; `better` says which direction wins in ratios. */
export interface Result {
  scenario: string;
  metric: string;
  target: string;
  value: number;
  unit: string;
  better: 'higher' | 'lower';
}

export interface ClientSpec {
  user: string;
  token?: string | undefined;
  rooms: string[];
}

/** Connects clients, spread over the generators and over several loopback source addresses. */
export async function connectClients(target: Target, generators: LoadGen[], clients: ClientSpec[], concurrency = 50) {
  const parts = split(clients, generators.length);
  const replies = await Promise.all(
    generators.map((generator, g) =>
      generator.request<{ connected: number; failures: number; ms: number }>({
        cmd: 'connect',
        protocol: target.protocol,
        urls: target.wsUrls,
        clients: parts[g],
        addresses: loopbackAddresses(8)
          .slice(g % 8)
          .concat(loopbackAddresses(8).slice(0, g % 8)),
        concurrency,
      }),
    ),
  );
  return {
    connected: replies.reduce((n, r) => n + r.connected, 0),
    failures: replies.reduce((n, r) => n + r.failures, 0),
    ms: Math.max(...replies.map((r) => r.ms)),
  };
}

export interface Collected {
  received: number;
  e2e: number[];
  acks: number[];
  duplicates: number;
  /** Per user and room, the seqs received; empty unless asked for. */
  seqs: Record<string, Record<string, number[]>>;
  resumed: number;
  resumeFailed: number;
  lastResumeAt: number;
  open: number;
}

export async function collect(generators: LoadGen[], options: { seqs?: boolean } = {}): Promise<Collected> {
  const replies = await Promise.all(generators.map((g) => g.request<Collected>({ cmd: 'collect', seqs: options.seqs ?? false })));
  return {
    received: replies.reduce((n, r) => n + r.received, 0),
    e2e: replies.flatMap((r) => r.e2e),
    acks: replies.flatMap((r) => r.acks),
    duplicates: replies.reduce((n, r) => n + r.duplicates, 0),
    seqs: Object.assign({}, ...replies.map((r) => r.seqs)),
    resumed: replies.reduce((n, r) => n + r.resumed, 0),
    resumeFailed: replies.reduce((n, r) => n + r.resumeFailed, 0),
    lastResumeAt: Math.max(...replies.map((r) => r.lastResumeAt)),
    open: replies.reduce((n, r) => n + r.open, 0),
  };
}

/** Closes every client and ends the generator processes. */
export async function stopGenerators(generators: LoadGen[]): Promise<void> {
  await Promise.all(generators.map((g) => g.stop()));
}
