/**
 * `pnpm dashboards:render`: a real run for the dashboard pictures in docs/operations.md. Starts the
 * whole stack (two gateways, both services, the notifier pushing to a local webhook receiver) in
 * its own namespace and database, a local Prometheus scraping every process's /metrics (Debian's
 * `prometheus`, temporary config and storage), and drives about four minutes of traffic that
 * touches every panel: sockets on both gateways, sends at two rates, edits, reactions, typing over
 * its limit, reads, pushes to offline members (some refused by the receiver), a gateway drained
 * with SIGTERM and its clients resuming with `since_seq` (replays, and resyncs past
 * REPLAY_MAX_EVENTS). Then deploy/grafana/render-panels.mjs renders each dashboard from
 * Prometheus' answers to its panels' queries, into docs/img/.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { FakeWebhook } from '../../support/fake-push.js';
import { type Gateway, mintToken, Stack } from '../../support/stack.js';
import { distDir, progress, sleep } from './harness.js';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: join(distDir, '..', '..', '..', 'docs', 'img') },
    seconds: { type: 'string', default: '240' },
  },
});
const root = join(distDir, '..', '..', '..');
const infra = {
  adminDatabaseUrl: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  natsUrl: process.env.BENCH_NATS_URL ?? 'nats://127.0.0.1:4222',
  redisUrl: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
};

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A socket client that counts and remembers each room's last seq, for resuming with since_seq. */
class Client {
  private ws!: WebSocket;
  private next = 1;
  private readonly pending = new Map<string, (frame: Record<string, unknown>) => void>();
  readonly lastSeq = new Map<string, number>();
  closed: Promise<number> = Promise.resolve(0);

  constructor(
    readonly user: string,
    readonly token: string,
    readonly rooms: string[],
  ) {}

  async connect(wsUrl: string, resume: boolean): Promise<void> {
    this.ws = new WebSocket(`${wsUrl}/v1/ws?token=${encodeURIComponent(this.token)}`);
    this.closed = new Promise((resolve) =>
      this.ws.once('close', (code) => {
        // Requests in flight on a closed socket are answered by no one: fail them.
        for (const answer of this.pending.values()) answer({ type: 'error' });
        this.pending.clear();
        resolve(code);
      }),
    );
    const hello = new Promise<void>((resolve, reject) => {
      this.ws.once('error', reject);
      this.ws.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as Record<string, unknown>;
        if (frame.type === 'hello') resolve();
        if ((frame.type === 'ack' || frame.type === 'error') && typeof frame.id === 'string') {
          this.pending.get(frame.id)?.(frame);
          this.pending.delete(frame.id);
        } else if (typeof frame.room_id === 'string' && typeof frame.seq === 'number') {
          this.lastSeq.set(frame.room_id, Math.max(this.lastSeq.get(frame.room_id) ?? 0, frame.seq));
        }
      });
    });
    await hello;
    for (const room of this.rooms) {
      const since = resume ? this.lastSeq.get(room) : undefined;
      const ack = await this.request({ type: 'subscribe', room_id: room, ...(since === undefined ? {} : { since_seq: since }) });
      const last = (ack.data as { last_seq?: number } | undefined)?.last_seq;
      if (typeof last === 'number' && since === undefined) this.lastSeq.set(room, last);
    }
  }

  request(frame: Record<string, unknown>): Promise<Record<string, unknown>> {
    const id = `d${this.next++}`;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ ...frame, id }));
      else resolve({ type: 'error' });
    });
  }

  /** Forgets seqs (as a client back after a long time would), so its resume falls past the replay limit. */
  forget(): void {
    for (const room of this.rooms) this.lastSeq.set(room, 1);
  }

  close(): Promise<number> {
    this.ws.close();
    return this.closed;
  }
}

async function main(): Promise<void> {
  const webhook = await new FakeWebhook().start();
  const stack = new Stack(
    infra,
    {
      gateways: 2,
      env: {
        OTEL_SDK_DISABLED: 'true',
        REPLAY_MAX_EVENTS: '40',
        RATE_LIMIT_TYPING_PER_S: '1',
        RATE_LIMIT_TYPING_BURST: '2',
        // The drain closes one slice of sockets every 20 ms, spread over at most this window: 75
        // sockets take 1.5 s, which the gateways' 1 s scrapes see.
        SHUTDOWN_DRAIN_WINDOW_MS: '20000',
      },
      notifier: { NOTIFY_COALESCE_MS: '500', NOTIFY_WEBHOOK_URL: webhook.url, NOTIFY_WEBHOOK_SECRET: 'dashboard-run-secret-0123' },
    },
    'dash',
  );
  try {
    await stack.start();
  } catch (error) {
    await stack.stop().catch(() => undefined);
    await webhook.stop();
    throw error;
  }
  progress(`stack ${stack.namespace} started`);

  // Prometheus: one target per process, labelled as the PodMonitor labels pods (namespace, pod).
  const work = mkdtempSync(join(tmpdir(), 'chat-dashboards-'));
  // Gateways in one file (scraped every second: a pod's drain lasts a second or two when it holds
  // few sockets, then the process is gone), the services in another (every 5 s, as slow as 5 s:
  // the notifier's scrape asks BullMQ, JetStream and its ledger, which takes seconds on a busy machine).
  const targetsFile = (kind: string) => join(work, `targets-${kind}.json`);
  const writeTargets = () => {
    const targets = stack.processes
      .filter((p) => p.child.exitCode === null && p.child.signalCode === null)
      .flatMap((p) => {
        const i = stack.processes.indexOf(p);
        const gateway = stack.gateways.find((g) => g.process === p);
        const ops = p.lines.find((l) => String(l.msg).startsWith('ops endpoints listening'));
        const url = gateway ? gateway.opsUrl : ops ? `http://127.0.0.1:${String(ops.port)}` : undefined;
        return url
          ? [
              {
                kind: gateway ? 'gateway' : 'service',
                targets: [new URL(url).host],
                labels: { namespace: stack.namespace, pod: `${p.name}-${i}` },
              },
            ]
          : [];
      });
    for (const kind of ['gateway', 'service']) {
      const list = targets.filter((t) => t.kind === kind).map(({ targets, labels }) => ({ targets, labels }));
      writeFileSync(targetsFile(kind), JSON.stringify(list));
    }
  };
  writeTargets();
  writeFileSync(
    join(work, 'prometheus.yml'),
    `global: { scrape_interval: 5s, scrape_timeout: 5s, evaluation_interval: 5s }
scrape_configs:
  - job_name: chat-gateways
    scrape_interval: 1s
    scrape_timeout: 1s
    file_sd_configs: [{ files: ['${targetsFile('gateway')}'], refresh_interval: 1s }]
  - job_name: chat-services
    file_sd_configs: [{ files: ['${targetsFile('service')}'], refresh_interval: 2s }]
`,
  );
  const promPort = await freePort();
  const prometheus: ChildProcess = spawn(
    'prometheus',
    [
      `--config.file=${join(work, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(work, 'data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
    ],
    { stdio: 'ignore' },
  );
  const promUrl = `http://127.0.0.1:${promPort}`;
  for (let i = 0; ; i++) {
    if ((await fetch(`${promUrl}/-/ready`).catch(() => undefined))?.ok) break;
    if (i > 100) throw new Error('prometheus did not start');
    await sleep(200);
  }
  progress(`prometheus on ${promUrl}`);

  try {
    const started = Math.floor(Date.now() / 1000);
    const http = stack.gateway(0).httpUrl;
    const call = async (token: string, method: string, path: string, body?: unknown) => {
      const response = await fetch(`${http}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
      return response.status === 204 ? { id: '' } : ((await response.json()) as { id: string });
    };
    // 30 rooms of 8: members 0-4 online (sockets), 5-7 offline with a webhook device each.
    const owner = mintToken('dash-owner', { name: 'Owner' });
    const rooms: Array<{ id: string; members: string[] }> = [];
    for (let r = 0; r < 30; r++) {
      const members = Array.from({ length: 8 }, (_, m) => `dash-${r}-${m}`);
      const { id } = await call(owner, 'POST', '/v1/rooms', { kind: 'group', title: `room ${r}`, member_ids: members });
      rooms.push({ id, members });
      for (const user of members.slice(5)) {
        const token = mintToken(user, { name: user });
        await call(token, 'PUT', `/v1/devices/${user}-phone`, { platform: 'webhook' });
        // Some devices fail: a few transient errors, one token the provider says is gone.
        if (user.endsWith('-5') && r % 5 === 0) webhook.script(`${user}-phone`, { status: 503 }, { status: 503 }, { status: 503 });
        if (user.endsWith('-6') && r % 10 === 0) webhook.script(`${user}-phone`, { status: 410 });
      }
    }
    const clients = rooms.flatMap((room) =>
      room.members.slice(0, 5).map((user) => new Client(user, mintToken(user, { name: user, expiresIn: 3600 }), [room.id])),
    );
    await Promise.all(clients.map((c, i) => c.connect(stack.gateway(i % 2).wsUrl, false)));
    progress(`${clients.length} sockets on 2 gateways`);

    const total = Number(values.seconds) * 1000;
    const runStarted = Date.now();
    let sent = 0;
    let stopping = false;
    // The traffic: the first member of each room sends; the others read, type, react and edit.
    const sendLoop = async () => {
      while (!stopping) {
        const elapsed = Date.now() - runStarted;
        // 40 msgs/s, 120 msgs/s in the second quarter, 40 again after.
        const rate = elapsed > total / 4 && elapsed < total / 2 ? 120 : 40;
        const tickStarted = Date.now();
        const batch = Math.max(1, Math.round(rate / 10));
        await Promise.all(
          Array.from({ length: batch }, async () => {
            const room = rooms[sent % rooms.length] as { id: string };
            const sender = clients.find((c) => c.rooms[0] === room.id && c.user.endsWith('-0')) as Client;
            const n = sent++;
            const ack = await sender.request({ type: 'message.send', room_id: room.id, client_msg_id: `dash-${n}`, body: `message ${n}` });
            const message = (ack.data as { message?: { id: string; seq: number } } | undefined)?.message;
            if (!message) return;
            if (n % 7 === 0)
              await sender.request({ type: 'message.edit', room_id: room.id, message_id: message.id, body: `message ${n}, edited` });
            const reader = clients.find((c) => c.rooms[0] === room.id && c.user.endsWith('-1')) as Client;
            if (n % 3 === 0) await reader.request({ type: 'reaction.add', room_id: room.id, message_id: message.id, emoji: '👍' });
            if (n % 2 === 0) await reader.request({ type: 'read', room_id: room.id, seq: message.seq });
            // Typing at 5/s against a limit of 1/s: refusals for the rate-limit panel.
            if (n % 4 === 0) for (let t = 0; t < 3; t++) await reader.request({ type: 'typing', room_id: room.id });
          }),
        );
        await sleep(Math.max(0, 100 - (Date.now() - tickStarted)));
      }
    };
    const loop = sendLoop();

    await sleep(total * 0.55);
    // A rolling update of gateway 2 (maxSurge 1): its replacement starts, then SIGTERM drains its
    // sockets with 1012; its clients resume with since_seq on gateway 1 and the replacement a few
    // seconds later (a third of them as if back after a long time: resync).
    const replacement: Gateway = await stack.startGateway();
    writeTargets();
    const leaving = stack.gateway(1);
    const moved = clients.filter((_, i) => i % 2 === 1);
    progress(`SIGTERM to gateway 2 (${moved.length} sockets)`);
    leaving.process.child.kill('SIGTERM');
    await Promise.all(moved.map((c) => c.closed));
    await sleep(4000);
    moved.forEach((c, i) => {
      if (i % 3 === 0) c.forget();
    });
    await Promise.all(moved.map((c, i) => c.connect((i % 2 === 0 ? stack.gateway(0) : replacement).wsUrl, true)));
    progress('clients resumed on gateway 1 and the new gateway');

    await sleep(Math.max(0, total - (Date.now() - runStarted)));
    stopping = true;
    await loop;
    await sleep(8000); // the last pushes, and a few scrapes of the quiet end
    await Promise.all(clients.map((c) => c.close()));
    await sleep(12_000); // two scrapes or more after the last closes
    const ended = Math.floor(Date.now() / 1000);
    progress(`${sent} messages sent, ${webhook.received.length} webhook pushes; rendering ${started}–${ended}`);
    execFileSync(
      process.execPath,
      [
        join(root, 'deploy', 'grafana', 'render-panels.mjs'),
        '--prometheus',
        promUrl,
        '--start',
        String(started),
        '--end',
        String(ended),
        '--out',
        values.out as string,
        '--rate-interval',
        '20s',
        '--note',
        `Local run ${new Date(started * 1000).toISOString().slice(0, 10)}: 2 gateways, 150 sockets, ${sent} messages in ${Math.round(total / 1000)} s (offered 40 → 120 → 40 msgs/s, as fast as the machine answered), gateway 2 drained at 55%.`,
      ],
      { stdio: 'inherit' },
    );
  } finally {
    prometheus.kill('SIGTERM');
    await new Promise((resolve) => prometheus.once('exit', resolve));
    rmSync(work, { recursive: true, force: true });
    await stack.stop();
    await webhook.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`dashboard run failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
