import { formatCpu, measureCpu, serverGroups } from '../cpu.js';
import { progress, sleep, startLoadGens } from '../harness.js';
import type { SendOutcome } from '../loadgen.js';
import { measureServerTimings } from '../server-timings.js';
import { percentiles } from '../stats.js';
import type { Target } from '../targets.js';
import { type ClientSpec, collect, connectClients, type Options, type Result, stopGenerators } from './common.js';

interface Step {
  offered: number;
  acked: number;
  deliveredPerS: number;
  ackedPerS: number;
  e2e: ReturnType<typeof percentiles>;
  ack: ReturnType<typeof percentiles>;
  /** Share of one core per process group while the load ran. */
  cpu: Record<string, number>;
  /**
   * CPU time per acknowledged message of each group (ms): CPU seconds over the whole step (until
   * the last ack came back, which on a starved machine is well after the offered seconds) divided
   * by the messages acknowledged in it.
   */
  cpuPerMessage: Record<string, number>;
  /** Means of our stack's own latency histograms over the step (ms); empty for the baselines. */
  server: Record<string, number>;
}

/**
 * Many senders in rooms of 10: messages persisted (where the target persists), acked and fanned
 * out per second, with ack and send-to-receive latency at fixed offered loads, then the highest
 * load whose p99 stays within 100 ms (saturation).
 */
export async function throughput(target: Target, options: Options): Promise<Result[]> {
  const roomCount = options.sizes.throughputRooms as number;
  const roomMembers = Array.from({ length: roomCount }, (_, r) => Array.from({ length: 10 }, (__, m) => `tp-${r}-${m}`));
  const rooms = await target.createRooms(roomMembers.map((members) => ({ members })));
  const clients: ClientSpec[] = roomMembers.flatMap((members, r) =>
    members.map((user) => ({ user, token: target.token(user), rooms: [rooms[r] as string] })),
  );
  const generators = await startLoadGens(options.generatorCount);
  await connectClients(target, generators, clients);
  // The first member of each room sends; the generator that holds it sends for it.
  const perGenerator = generators.map(() => [] as Array<{ client: number; room: string }>);
  clients.forEach((client, index) => {
    if (!client.user.endsWith('-0')) return;
    const g = index % generators.length;
    perGenerator[g]?.push({ client: Math.floor(index / generators.length), room: client.rooms[0] as string });
  });
  const duration = options.sizes.throughputSeconds as number;
  // Each step's idempotency keys are its own: a repeated key would be answered, not stored again.
  let stepNumber = 0;
  const run = async (offered: number): Promise<Step> => {
    stepNumber++;
    await collect(generators);
    const perSenderRate = offered / roomCount;
    const server = await measureServerTimings(target.metricsUrls());
    const cpu = measureCpu({ ...target.cpuGroups(), ...serverGroups(), loadgen: generators.map((g) => g.child.pid as number) });
    const stepStarted = performance.now();
    const replies = await Promise.all(
      generators.map((generator, g) =>
        generator.request<SendOutcome>({
          cmd: 'send',
          senders: perGenerator[g],
          perSenderRate,
          durationMs: duration * 1000,
          tag: `${target.name}-${offered}-step${stepNumber}`,
        }),
      ),
    );
    const cpuShares = cpu();
    const stepSeconds = (performance.now() - stepStarted) / 1000;
    await sleep(500);
    const serverMeans = await server();
    const stats = await collect(generators);
    const acked = replies.reduce((n, r) => n + r.acked, 0);
    return {
      offered,
      acked,
      ackedPerS: acked / duration,
      deliveredPerS: stats.received / duration,
      e2e: percentiles(stats.e2e),
      ack: percentiles(stats.acks),
      cpu: cpuShares,
      cpuPerMessage: Object.fromEntries(
        Object.entries(cpuShares).map(([group, share]) => [group, acked > 0 ? (share * stepSeconds * 1000) / acked : Number.NaN]),
      ),
      server: serverMeans,
    };
  };
  // A short run first, not reported, so no target's first measured step pays for JIT and cold caches.
  await run(Math.min(250, options.sizes.saturationStart as number));
  const results: Result[] = [];
  const base = { scenario: 'throughput', target: target.name };
  for (const offered of options.sizes.throughputLoads as unknown as number[]) {
    const step = await run(offered);
    progress(
      `${target.name}: offered ${offered}/s → acked ${step.ackedPerS.toFixed(0)}/s, e2e p50 ${step.e2e.p50.toFixed(1)} p99 ${step.e2e.p99.toFixed(1)} ms; cpu ${formatCpu(step.cpu)}${formatPostgresPerMessage(step)}${formatServer(step.server)}`,
    );
    results.push(
      { ...base, metric: `at ${offered} msgs/s: send-to-receive p50`, value: step.e2e.p50, unit: 'ms', better: 'lower' },
      { ...base, metric: `at ${offered} msgs/s: send-to-receive p99`, value: step.e2e.p99, unit: 'ms', better: 'lower' },
      { ...base, metric: `at ${offered} msgs/s: ack p99`, value: step.ack.p99, unit: 'ms', better: 'lower' },
    );
    if (step.cpuPerMessage.postgres !== undefined && step.acked > 0) {
      const perMessage = step.cpuPerMessage.postgres;
      results.push({ ...base, metric: `at ${offered} msgs/s: Postgres CPU per message`, value: perMessage, unit: 'ms', better: 'lower' });
    }
    // Every process group's CPU per acknowledged message, the unit of the capacity model (docs/scaling.md).
    if (step.acked > 0) {
      progress(`${target.name}: at ${offered}/s, CPU per message (ms): ${formatPerMessage(step)}`);
      for (const [group, perMessage] of Object.entries(step.cpuPerMessage)) {
        if (group === 'postgres' || group === 'loadgen') continue;
        results.push({ ...base, metric: `at ${offered} msgs/s: ${group} CPU per message`, value: perMessage, unit: 'ms', better: 'lower' });
      }
    }
  }
  // Saturation: double the load until p99 passes 100 ms or acks fall behind what was offered.
  let best = 0;
  let bestDeliveries = 0;
  for (let offered = options.sizes.saturationStart as number; offered <= (options.sizes.saturationMax as number); offered *= 2) {
    const step = await run(offered);
    const ok = step.e2e.p99 <= 100 && step.ackedPerS >= 0.9 * offered;
    progress(
      `${target.name}: saturation ${offered}/s → acked ${step.ackedPerS.toFixed(0)}/s, p99 ${step.e2e.p99.toFixed(1)} ms ${ok ? 'ok' : 'over'}; cpu ${formatCpu(step.cpu)}${formatPostgresPerMessage(step)}${formatServer(step.server)}`,
    );
    if (!ok) break;
    best = step.ackedPerS;
    bestDeliveries = step.deliveredPerS;
  }
  await stopGenerators(generators);
  results.push(
    {
      ...base,
      metric: 'max msgs/s with p99 ≤ 100 ms (rooms of 10; load doubled from 125/s)',
      value: best,
      unit: 'msgs/s',
      better: 'higher',
    },
    { ...base, metric: 'deliveries/s at that load', value: bestDeliveries, unit: 'events/s', better: 'higher' },
  );
  return results;
}

/**
 * Postgres CPU per acknowledged message (ms): every Postgres process of the machine (backends,
 * WAL writer, checkpointer), so it includes whatever else uses this Postgres meanwhile.
 */
function formatPostgresPerMessage(step: Step): string {
  const perMessage = step.cpuPerMessage.postgres;
  if (perMessage === undefined || step.acked <= 0) return '';
  return `; postgres ${perMessage.toFixed(2)} ms CPU per message`;
}

/** CPU time per acknowledged message of each process group (ms), the load generators included. */
function formatPerMessage(step: Step): string {
  return Object.entries(step.cpuPerMessage)
    .filter(([group]) => (step.cpu[group] ?? 0) >= 0.005)
    .map(([name, perMessage]) => `${name} ${perMessage.toFixed(3)}`)
    .join(', ');
}

/** The few stage timings that explain a send's way through our stack (means, ms). */
function formatServer(means: Record<string, number>): string {
  const stages: Array<[string, string]> = [
    ['chat_gateway_send_duration_seconds', 'gateway send'],
    ['chat_rpc_server_duration_seconds{endpoint="send"}', 'messages.send'],
    ['chat_outbox_lag_seconds', 'commit→JetStream'],
  ];
  const parts = stages.flatMap(([key, label]) => (means[key] === undefined ? [] : [`${label} ${means[key].toFixed(1)}`]));
  return parts.length > 0 ? `; server means (ms): ${parts.join(', ')}` : '';
}
