import { parseArgs } from 'node:util';

export const SCENARIOS = ['connections', 'throughput', 'fanout', 'history', 'reconnect'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export const BENCH_USAGE = `Usage: pnpm bench [options]

  --quick                 smaller sizes (about 2.5 minutes instead of 10)
  --scenario a,b          one or more of: ${SCENARIOS.join(', ')} (default: all)
  --no-baselines          our stack only: no bare uWS or Socket.IO runs, no ratios
  --tracing               OpenTelemetry on in our processes, every span exported to a local sink
  --connections N         sockets in the connections scenario (and gateways: one per 15,000)
  --generators N          load generator processes (default 2, or 4 above 5,000 connections)
  --out FILE              where the JSON results go (default bench-results/latest.json)
  --help                  this text

Environment: BENCH_DATABASE_URL, BENCH_NATS_URL, BENCH_REDIS_URL (servers to use),
BENCH_ENV="VAR=value ..." (service variables), BENCH_NODE_ARGS (Node.js flags for our processes),
BENCH_HEAP_SNAPSHOT_DIR (a heap snapshot after each full GC). See docs/benchmarks.md.
`;

export interface BenchArgs {
  quick: boolean;
  scenarios: Scenario[];
  baselines: boolean;
  tracing: boolean;
  connections: number | undefined;
  generators: number | undefined;
  out: string | undefined;
}

/** A command line the bench cannot run; the message says what to change. */
export class BenchUsageError extends Error {
  override name = 'BenchUsageError';
}

/** The bench's command line, or `help` when it asks for the usage text. */
export function parseBenchArgs(argv: string[]): BenchArgs | 'help' {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(argv).values;
  } catch (error) {
    throw new BenchUsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return 'help';
  const scenarios = values.scenario ? values.scenario.split(',') : [...SCENARIOS];
  const unknown = scenarios.filter((s) => !(SCENARIOS as readonly string[]).includes(s));
  if (unknown.length > 0) throw new BenchUsageError(`unknown scenario ${unknown.join(', ')}; choose from ${SCENARIOS.join(', ')}`);
  return {
    quick: values.quick ?? false,
    scenarios: scenarios as Scenario[],
    baselines: values.baselines ?? true,
    tracing: values.tracing ?? false,
    connections: positiveInteger('--connections', values.connections),
    generators: positiveInteger('--generators', values.generators),
    out: values.out,
  };
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean' },
      scenario: { type: 'string' },
      out: { type: 'string' },
      connections: { type: 'string' },
      generators: { type: 'string' },
      baselines: { type: 'boolean' },
      tracing: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowNegative: true,
  });
}

function positiveInteger(option: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new BenchUsageError(`${option} takes a positive whole number, not "${value}"`);
  return n;
}
