/**
 * `pnpm bench`: starts what it needs, runs the scenarios against our stack and the two baselines
 * (bare uWebSockets.js, Socket.IO + pg) in the same run, prints progress, then a table with
 * ratios, and writes the results as JSON. The options are `BENCH_USAGE` in cli.ts (`--help`).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { BENCH_USAGE, type BenchArgs, BenchUsageError, parseBenchArgs, type Scenario } from './cli.js';
import { distDir } from './harness.js';
import { OtlpSink } from './otlp-sink.js';
import type { Options, Result } from './scenarios/common.js';
import { connections } from './scenarios/connections.js';
import { fanout } from './scenarios/fanout.js';
import { history } from './scenarios/history.js';
import { reconnectStorm } from './scenarios/reconnect.js';
import { throughput } from './scenarios/throughput.js';
import { startBareUws, startChat, startSocketIo, type Target } from './targets.js';

function commandLine(): BenchArgs {
  try {
    const args = parseBenchArgs(process.argv.slice(2));
    if (args !== 'help') return args;
    process.stdout.write(BENCH_USAGE);
    process.exit(0);
  } catch (error) {
    if (!(error instanceof BenchUsageError)) throw error;
    process.stderr.write(`bench: ${error.message}\n\n${BENCH_USAGE}`);
    process.exit(2);
  }
}

const args = commandLine();
const { quick, scenarios } = args;

const sizes: Record<string, number> & { throughputLoads?: number } = quick
  ? {
      connections: 2000,
      throughputRooms: 20,
      throughputSeconds: 3,
      saturationStart: 125,
      saturationMax: 8000,
      fanoutSubscribers: 1000,
      fanoutMessages: 200,
      historyMessages: 500,
      historySeconds: 3,
      historyConcurrency: 10,
      reconnectSockets: 1000,
    }
  : {
      connections: 10_000,
      throughputRooms: 100,
      throughputSeconds: 8,
      saturationStart: 125,
      saturationMax: 64_000,
      fanoutSubscribers: 10_000,
      fanoutMessages: 200,
      historyMessages: 5000,
      historySeconds: 10,
      historyConcurrency: 20,
      reconnectSockets: 10_000,
    };
if (args.connections) sizes.connections = args.connections;
(sizes as Record<string, unknown>).throughputLoads = quick ? [500] : [1000, 2000];

const infra = {
  adminDatabaseUrl: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  natsUrl: process.env.BENCH_NATS_URL ?? 'nats://127.0.0.1:4222',
  redisUrl: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
};
const options: Options = { quick, generatorCount: args.generators ?? ((sizes.connections ?? 0) > 5000 ? 4 : 2), infra, sizes };

type Runner = (target: Target, opts: Options) => Promise<Result[]>;
const runners: Record<Scenario, { run: Runner; baselines: boolean }> = {
  connections: { run: connections, baselines: true },
  throughput: { run: throughput, baselines: true },
  fanout: { run: fanout, baselines: true },
  history: { run: history as Runner, baselines: false },
  reconnect: { run: reconnectStorm as unknown as Runner, baselines: false },
};

async function withTarget(start: () => Promise<Target>, run: (target: Target) => Promise<Result[]>): Promise<Result[]> {
  const target = await start();
  try {
    return await run(target);
  } finally {
    await target.stop();
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const { tracing } = args;
  const sink = tracing ? await new OtlpSink().start() : undefined;
  // Tracing as production runs it: every span sampled, batched and exported (OTLP/HTTP protobuf).
  const chatEnv: Record<string, string> = sink
    ? { OTEL_SDK_DISABLED: 'false', OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' }
    : {};
  process.stdout.write(
    `bench: ${quick ? 'quick' : 'full'} run of ${scenarios.join(', ')} on ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; tracing ${tracing ? 'on (every span exported)' : 'off'}\n`,
  );
  const results: Result[] = [];
  for (const scenario of scenarios) {
    process.stdout.write(`\n[${scenario}]\n`);
    const { run, baselines } = runners[scenario];
    // Enough gateways that none passes the 20,000 open-files limit of a process.
    const gateways = Math.max(1, Math.ceil((sizes.connections as number) / 15_000));
    results.push(
      ...(await withTarget(
        () => startChat(infra, { gateways, env: chatEnv }),
        (t) => run(t, options),
      )),
    );
    if (baselines && args.baselines) {
      results.push(...(await withTarget(startBareUws, (t) => run(t, options))));
      results.push(
        ...(await withTarget(
          () => startSocketIo(infra),
          (t) => run(t, options),
        )),
      );
    }
  }
  printTable(results);
  if (sink) {
    process.stdout.write(`\ntracing: ${sink.requests} OTLP exports, ${(sink.bytes / 2 ** 20).toFixed(1)} MB of spans\n`);
    await sink.stop();
  }
  const out = args.out ?? join(distDir, '..', '..', '..', 'bench-results', 'latest.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify({ date: new Date().toISOString(), quick, tracing, cores: cpus().length, node: process.version, seconds: (Date.now() - started) / 1000, results }, null, 2)}\n`,
  );
  process.stdout.write(`\nresults: ${out} (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
}

function printTable(results: Result[]): void {
  const rows = new Map<string, { scenario: string; metric: string; unit: string; better: string; values: Record<string, number> }>();
  for (const r of results) {
    const key = `${r.scenario}|${r.metric}`;
    const row = rows.get(key) ?? { scenario: r.scenario, metric: r.metric, unit: r.unit, better: r.better, values: {} };
    row.values[r.target] = r.value;
    rows.set(key, row);
  }
  const fmt = (v: number | undefined) =>
    v === undefined || Number.isNaN(v) ? '–' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
  const ratio = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined || b === 0 || Number.isNaN(a) || Number.isNaN(b) ? '–' : `${(a / b).toFixed(2)}×`;
  const lines = [['scenario', 'metric', 'unit', 'chat', 'bare uWS', 'Socket.IO', 'chat/Socket.IO', 'chat/bare uWS']];
  for (const row of rows.values()) {
    const { chat, 'bare-uws': uws, socketio } = row.values;
    lines.push([row.scenario, row.metric, row.unit, fmt(chat), fmt(uws), fmt(socketio), ratio(chat, socketio), ratio(chat, uws)]);
  }
  const widths = (lines[0] as string[]).map((_, c) => Math.max(...lines.map((l) => (l[c] as string).length)));
  process.stdout.write('\n');
  for (const [i, line] of lines.entries()) {
    process.stdout.write(`${line.map((cell, c) => cell.padEnd(widths[c] as number)).join(' | ')}\n`);
    if (i === 0) process.stdout.write(`${widths.map((w) => '-'.repeat(w)).join('-|-')}\n`);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
