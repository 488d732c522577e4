import { formatCpu, measureCpu, serverGroups } from '../cpu.js';
import { progress, sleep, startLoadGens } from '../harness.js';
import type { SendOutcome } from '../loadgen.js';
import type { startChat } from '../targets.js';
import { type ClientSpec, collect, connectClients, type Options, type Result, stopGenerators } from './common.js';

/**
 * Restart a gateway holding N sockets while messages keep flowing: the time until every socket
 * has resumed with since_seq, and the missed and duplicated events (both must be 0).
 */
export async function reconnectStorm(target: Awaited<ReturnType<typeof startChat>>, options: Options): Promise<Result[]> {
  const n = options.sizes.reconnectSockets as number;
  const roomCount = Math.max(1, Math.floor(n / 10));
  const members = Array.from({ length: roomCount }, (_, r) => Array.from({ length: 10 }, (__, m) => `rc-${r}-${m}`));
  const rooms = await target.createRooms([...members.map((m) => ({ members: [...m, 'rc-sender'] }))]);
  // The restarted gateway listens outside the ephemeral port range, which reconnecting clients use.
  const base = 20_000 + Math.floor(Math.random() * 9000);
  // The worst case for resuming: the gateway closes every socket at once (no drain window) and
  // all clients come back to it within their 3 s of jitter.
  const victimEnv = { SHUTDOWN_DRAIN_WINDOW_MS: '0' };
  const victim = await target.stack.startGateway({ ...victimEnv, GATEWAY_HTTP_PORT: String(base), GATEWAY_WS_PORT: String(base + 1) });
  const survivor = target.stack.gateways[0];
  if (!survivor) throw new Error('the reconnect storm needs a second gateway');
  const clients: ClientSpec[] = members.flatMap((m, r) =>
    m.map((user) => ({ user, token: target.token(user), rooms: [rooms[r] as string] })),
  );
  const generators = await startLoadGens(options.generatorCount);
  const victimTarget = { ...target, wsUrls: [victim.wsUrl] };
  await connectClients(victimTarget, generators, clients);
  await Promise.all(generators.map((g) => g.request({ cmd: 'resume-on-close', jitterMs: 3000 })));
  // The sender sits on the other gateway and keeps writing to every room through the storm.
  const [senderGen] = await startLoadGens(1);
  if (!senderGen) throw new Error('no sender');
  await connectClients(
    { ...target, wsUrls: [survivor.wsUrl] },
    [senderGen],
    [{ user: 'rc-sender', token: target.token('rc-sender'), rooms: [] }],
  );
  const sending = senderGen.request<SendOutcome>({
    cmd: 'send',
    senders: rooms.map((room) => ({ client: 0, room })),
    perSenderRate: Math.max(0.5, 200 / roomCount),
    durationMs: 12_000,
    tag: 'storm',
  });
  await sleep(2000);
  progress(`chat: restarting a gateway with ${n} sockets while messages flow`);
  const killedAt = Date.now();
  await victim.process.stop('SIGTERM');
  const stoppedAt = Date.now();
  const steps = victim.process.lines.filter((line) => line.msg === 'shutdown step done').map((line) => `${line.step} ${line.ms} ms`);
  progress(`chat: the gateway's shutdown steps: ${steps.join(', ')}`);
  const ports = { GATEWAY_HTTP_PORT: new URL(victim.httpUrl).port, GATEWAY_WS_PORT: new URL(victim.wsUrl).port };
  target.stack.gateways.splice(target.stack.gateways.indexOf(victim), 1);
  await target.stack.startGateway({ ...victimEnv, ...ports });
  const backAt = Date.now();
  progress(
    `chat: the gateway stopped and is back ${((backAt - killedAt) / 1000).toFixed(1)} s after SIGTERM (exit after ${((stoppedAt - killedAt) / 1000).toFixed(1)} s, ready ${((backAt - stoppedAt) / 1000).toFixed(1)} s after its start)`,
  );
  const cpu = measureCpu({
    ...target.cpuGroups(),
    ...serverGroups(),
    loadgen: [...generators, senderGen].map((g) => g.child.pid as number),
  });
  let stats = await collect(generators);
  for (let i = 0; i < 240 && stats.resumed < n - stats.resumeFailed; i++) {
    await sleep(250);
    stats = await collect(generators);
  }
  progress(`chat: resumes after the gateway was back took ${((stats.lastResumeAt - backAt) / 1000).toFixed(1)} s; cpu ${formatCpu(cpu())}`);
  const resumedIn = (stats.lastResumeAt - killedAt) / 1000;
  const sent = await sending;
  await sleep(2000);
  stats = await collect(generators, { seqs: true });
  // Every room received only message.created events: a client must hold seqs 1..count, once each.
  let missed = 0;
  const counts = new Map<string, number>();
  for (const seqs of Object.values(stats.seqs)) {
    for (const [room, list] of Object.entries(seqs)) counts.set(room, Math.max(counts.get(room) ?? 0, ...list));
  }
  // Who missed what: a seq every member of a room missed never reached the gateway; one a single
  // client missed was lost on its way to that socket.
  const missedBy = new Map<string, number>();
  for (const client of clients) {
    const room = client.rooms[0] as string;
    const seen = new Set(stats.seqs[client.user]?.[room] ?? []);
    for (let seq = 1; seq <= (counts.get(room) ?? 0); seq++) {
      if (seen.has(seq)) continue;
      missed++;
      missedBy.set(`${room}:${seq}`, (missedBy.get(`${room}:${seq}`) ?? 0) + 1);
    }
  }
  if (missed > 0) {
    const byAll = [...missedBy.values()].filter((n) => n >= 10).length;
    const sample = [...missedBy.entries()].slice(0, 5).map(([key, n]) => `${key.slice(-12)} by ${n}`);
    progress(`chat: ${missedBy.size} distinct events missed, ${byAll} of them by all 10 members; e.g. ${sample.join(', ')}`);
  }
  await stopGenerators([...generators, senderGen]);
  progress(
    `chat: ${stats.resumed}/${n} resumed in ${resumedIn.toFixed(1)} s; sent ${sent.acked}; missed ${missed}, duplicated ${stats.duplicates}`,
  );
  const row = { scenario: 'reconnect storm', target: 'chat' };
  return [
    { ...row, metric: `time until ${n} sockets resumed with since_seq`, value: resumedIn, unit: 's', better: 'lower' },
    {
      ...row,
      metric: 'sockets that failed to resume',
      value: stats.resumeFailed + (n - stats.resumed - stats.resumeFailed),
      unit: '',
      better: 'lower',
    },
    { ...row, metric: 'missed events', value: missed, unit: '', better: 'lower' },
    { ...row, metric: 'duplicated events', value: stats.duplicates, unit: '', better: 'lower' },
  ];
}
