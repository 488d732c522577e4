import { formatCpu, measureCpu, serverGroups } from '../cpu.js';
import { progress, rssOf, sleep, startLoadGens } from '../harness.js';
import type { Target } from '../targets.js';
import { type ClientSpec, collect, connectClients, type Options, type Result, stopGenerators } from './common.js';

/** N authenticated sockets, each subscribed to 3 rooms: memory per socket at the edge, and the connect rate. */
export async function connections(target: Target, options: Options): Promise<Result[]> {
  const n = options.sizes.connections as number;
  // Rooms of 10 in three layers: every socket is in three different rooms, each room has 10 members.
  const users = Array.from({ length: n }, (_, i) => `conn-${i}`);
  const perLayer = Math.ceil(n / 10);
  const layers = [1, 7919, 104_729].map((stride) => users.map((_, i) => Math.floor(((i * stride) % n) / 10)));
  const roomMembers = layers.flatMap((layer) => Array.from({ length: perLayer }, (_, r) => users.filter((__, i) => layer[i] === r)));
  progress(`${target.name}: creating ${roomMembers.length} rooms of 10`);
  const rooms = await target.createRooms(roomMembers.map((members) => ({ members })));
  const clients: ClientSpec[] = users.map((user, i) => ({
    user,
    token: target.token(user),
    rooms: layers.map((layer, l) => rooms[l * perLayer + (layer[i] as number)] as string),
  }));
  const generators = await startLoadGens(options.generatorCount);
  const heapBefore = await target.collectGarbage();
  await sleep(500);
  const rss = () => target.edgePids().reduce((sum, pid) => sum + rssOf(pid), 0);
  const before = rss();
  progress(`${target.name}: connecting ${n} sockets (3 rooms each)`);
  const cpu = measureCpu({ ...target.cpuGroups(), ...serverGroups(), loadgen: generators.map((g) => g.child.pid as number) });
  const connectStarted = performance.now();
  const connected = await connectClients(target, generators, clients);
  const cpuShares = cpu();
  // CPU time per socket connected and subscribed to its 3 rooms, per process group (ms).
  const connectSeconds = (performance.now() - connectStarted) / 1000;
  const perSocket = Object.entries(cpuShares)
    .filter(([group, share]) => share >= 0.005 && group !== 'loadgen')
    .map(([group, share]) => [group, (share * connectSeconds * 1000) / Math.max(1, connected.connected)] as const);
  await sleep(1500);
  const after = rss();
  // Settled: what the sockets hold once the garbage of the connect burst is gone.
  const heapSettled = await target.collectGarbage();
  await sleep(500);
  const settled = rss();
  const open = (await collect(generators)).open;
  await stopGenerators(generators);
  progress(
    `${target.name}: ${connected.connected} connected (${connected.failures} failed) in ${(connected.ms / 1000).toFixed(1)} s; ${open} open; RSS +${((after - before) / 2 ** 20).toFixed(0)} MB, +${((settled - before) / 2 ** 20).toFixed(0)} MB after GC (JS heap +${((heapSettled - heapBefore) / 2 ** 20).toFixed(1)} MB); cpu ${formatCpu(cpuShares)}; CPU per socket (ms): ${perSocket.map(([g, ms]) => `${g} ${ms.toFixed(3)}`).join(', ')}`,
  );
  const base = { scenario: 'connections', target: target.name };
  return [
    {
      ...base,
      metric: `edge memory per socket after a full GC (${n} sockets × 3 rooms of 10)`,
      value: (settled - before) / Math.max(1, connected.connected) / 1024,
      unit: 'KB',
      better: 'lower',
    },
    {
      ...base,
      // The part of the above in the server's JavaScript heap (the rest is uWS's native state,
      // the same for our gateway and bare uWS): what our own per-socket and per-room objects hold.
      metric: 'edge JS heap per socket after a full GC',
      value: (heapSettled - heapBefore) / Math.max(1, connected.connected) / 1024,
      unit: 'KB',
      better: 'lower',
    },
    {
      ...base,
      metric: 'edge memory per socket right after connecting (garbage included)',
      value: (after - before) / Math.max(1, connected.connected) / 1024,
      unit: 'KB',
      better: 'lower',
    },
    {
      ...base,
      metric: 'connect + subscribe rate',
      value: connected.connected / (connected.ms / 1000),
      unit: 'sockets/s',
      better: 'higher',
    },
    { ...base, metric: 'failed connections', value: connected.failures, unit: '', better: 'lower' },
    ...perSocket.map(([group, ms]) => ({
      ...base,
      metric: `${group} CPU per socket connected (3 subscribes)`,
      value: ms,
      unit: 'ms',
      better: 'lower' as const,
    })),
  ];
}
