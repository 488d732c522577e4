import { formatCpu, measureCpu, serverGroups } from '../cpu.js';
import { progress, sleep, startLoadGens } from '../harness.js';
import type { SendOutcome } from '../loadgen.js';
import { appendAll, percentiles } from '../stats.js';
import type { Target } from '../targets.js';
import { type ClientSpec, collect, connectClients, type Options, type Result, stopGenerators } from './common.js';

/** One room with many subscribers: deliveries per second and delivery latency. */
export async function fanout(target: Target, options: Options): Promise<Result[]> {
  const n = options.sizes.fanoutSubscribers as number;
  const users = Array.from({ length: n + 1 }, (_, i) => `fan-${i}`);
  const [room] = await target.createRooms([{ members: users }]);
  const clients: ClientSpec[] = users.map((user) => ({ user, token: target.token(user), rooms: [room as string] }));
  const generators = await startLoadGens(options.generatorCount);
  await connectClients(target, generators, clients);
  await collect(generators);
  const messages = options.sizes.fanoutMessages as number;
  const seconds = 2;
  progress(`${target.name}: ${messages} messages into a room of ${n} subscribers`);
  const started = Date.now();
  const cpu = measureCpu({ ...target.cpuGroups(), ...serverGroups(), loadgen: generators.map((g) => g.child.pid as number) });
  const sendOutcome = await generators[0]?.request<SendOutcome>({
    cmd: 'send',
    senders: [{ client: 0, room }],
    perSenderRate: messages / seconds,
    durationMs: seconds * 1000,
    tag: `fan-${target.name}`,
  });
  // Wait for the deliveries to drain (bounded).
  let stats = await collect(generators);
  let received = stats.received;
  const e2e = [...stats.e2e];
  // Every subscriber (the sender too) gets each acknowledged message once.
  const expected = (sendOutcome?.acked ?? messages) * (n + 1);
  if (sendOutcome && sendOutcome.refusalsWaitedOut > 0) {
    progress(`${target.name}: the sender waited out ${sendOutcome.refusalsWaitedOut} rate_limited answers and sent again`);
  }
  if (sendOutcome && sendOutcome.failed > 0) {
    progress(`${target.name}: ${sendOutcome.failed} of ${sendOutcome.sent} sends failed: ${JSON.stringify(sendOutcome.failures)}`);
  }
  for (let i = 0; i < 400 && received < expected; i++) {
    await sleep(50);
    stats = await collect(generators);
    received += stats.received;
    appendAll(e2e, stats.e2e);
  }
  const elapsed = (Date.now() - started) / 1000;
  const cpuShares = cpu();
  await stopGenerators(generators);
  const latency = percentiles(e2e);
  progress(
    `${target.name}: ${received} deliveries in ${elapsed.toFixed(1)} s, p99 ${latency.p99.toFixed(1)} ms; cpu ${formatCpu(cpuShares)}`,
  );
  const base = { scenario: 'fan-out', target: target.name };
  return [
    {
      ...base,
      metric: `deliveries/s into ${n} subscribers`,
      value: received / elapsed,
      unit: 'events/s',
      better: 'higher',
    },
    { ...base, metric: 'delivery p99', value: latency.p99, unit: 'ms', better: 'lower' },
    { ...base, metric: 'delivered / expected (acknowledged sends × subscribers)', value: received / expected, unit: '', better: 'higher' },
    {
      ...base,
      metric: 'sends failed (after waiting out rate_limited answers)',
      value: sendOutcome?.failed ?? 0,
      unit: '',
      better: 'lower',
    },
    {
      ...base,
      metric: 'rate_limited answers waited out by the sender',
      value: sendOutcome?.refusalsWaitedOut ?? 0,
      unit: '',
      better: 'lower',
    },
  ];
}
