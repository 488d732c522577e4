import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { createDatabase, databaseUrlFor, dropDatabase } from '../../support/scratch-database.js';
import { mintToken, Stack } from '../../support/stack.js';
import type { CpuGroups } from './cpu.js';
import { collectGarbage, INSPECT_ARG, inspectorUrlIn } from './gc.js';
import { distDir, progress } from './harness.js';
import type { Protocol } from './protocol.js';

export interface Infra {
  adminDatabaseUrl: string;
  natsUrl: string;
  redisUrl: string;
}

/** A server under test: where sockets go, which processes to weigh, how to set up rooms. */
export interface Target {
  name: 'chat' | 'bare-uws' | 'socketio';
  protocol: Protocol;
  wsUrls: string[];
  /** Processes whose memory per socket is reported (the gateways, or the baseline server). */
  edgePids(): number[];
  /** Its processes by role, for the CPU shares printed with each step. */
  cpuGroups(): CpuGroups;
  /** A full garbage collection in every edge process (through the inspector). */
  /** A full GC in every edge process; answers their JavaScript heap in use after it (bytes). */
  collectGarbage(): Promise<number>;
  /** Prometheus endpoints of our processes (none for the baselines). */
  metricsUrls(): string[];
  /** Rooms with these members; returns room ids (the baselines need no setup: a room is a name). */
  createRooms(rooms: Array<{ members: string[] }>): Promise<string[]>;
  token(user: string): string | undefined;
  stop(): Promise<void>;
}

const tokens = new Map<string, string>();
function tokenFor(user: string): string {
  let token = tokens.get(user);
  if (!token) {
    token = mintToken(user, { name: user, expiresIn: 24 * 3600 });
    tokens.set(user, token);
  }
  return token;
}

export async function startChat(
  infra: Infra,
  options: { gateways: number; env?: Record<string, string> },
): Promise<Target & { stack: Stack }> {
  const stack = new Stack(
    infra,
    {
      gateways: options.gateways,
      // For profiling our processes, e.g. BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof".
      nodeArgs: [INSPECT_ARG, ...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [])],
      env: {
        LOG_LEVEL: 'info',
        // Off unless the run measures it (`--tracing` sets these in options.env).
        OTEL_SDK_DISABLED: 'true',
        DATABASE_POOL_MAX: '20',
        RATE_LIMIT_SENDS_PER_S: '1000000',
        RATE_LIMIT_SENDS_BURST: '1000000',
        // The bench connects thousands of sockets from one address, many per user, in seconds.
        RATE_LIMIT_CONNECTS_PER_S: '1000000',
        RATE_LIMIT_CONNECTS_BURST: '1000000',
        RATE_LIMIT_CONNECTS_PER_ADDRESS_PER_S: '1000000',
        RATE_LIMIT_CONNECTS_PER_ADDRESS_BURST: '1000000',
        WS_MAX_SOCKETS_PER_USER: '1000000',
        // Set-up creates rooms and registers devices by the thousand, a few users at a time.
        RATE_LIMIT_ROOM_CREATES_PER_S: '1000000',
        RATE_LIMIT_ROOM_CREATES_BURST: '1000000',
        RATE_LIMIT_DEVICE_REGISTRATIONS_PER_S: '1000000',
        RATE_LIMIT_DEVICE_REGISTRATIONS_BURST: '1000000',
        RATE_LIMIT_UPLOADS_PER_S: '1000000',
        RATE_LIMIT_UPLOADS_BURST: '1000000',
        RATE_LIMIT_SEARCHES_PER_S: '1000000',
        RATE_LIMIT_SEARCHES_BURST: '1000000',
        WS_MAX_BUFFERED_BYTES: String(16 * 1024 * 1024),
        REPLAY_MAX_EVENTS: '10000',
        GROUP_MAX_MEMBERS: '100000',
        ...options.env,
        // Any CHAT_* or service variable can be tried without a rebuild: BENCH_ENV="SEND_BATCH_PARALLEL=1 …".
        ...Object.fromEntries(
          (process.env.BENCH_ENV ?? '')
            .split(' ')
            .filter(Boolean)
            .map((kv) => kv.split('=') as [string, string]),
        ),
      },
    },
    'bench',
  );
  try {
    await stack.start();
  } catch (error) {
    // A process that did not come up in time (a busy machine): stop the ones that did.
    await stack.stop().catch(() => undefined);
    throw error;
  }
  const http = () => stack.gateway(0).httpUrl;
  return {
    stack,
    name: 'chat',
    protocol: 'chat',
    get wsUrls() {
      return stack.gateways.map((g) => g.wsUrl);
    },
    edgePids: () => stack.gateways.map((g) => g.process.child.pid as number),
    metricsUrls: () =>
      stack.processes.flatMap((p) => {
        const gateway = stack.gateways.find((g) => g.process === p);
        if (gateway) return [`${gateway.opsUrl}/metrics`];
        const ops = p.lines.find((l) => String(l.msg).startsWith('ops endpoints listening'));
        return ops ? [`http://127.0.0.1:${String(ops.port)}/metrics`] : [];
      }),
    async collectGarbage() {
      let heapUsed = 0;
      for (const gateway of stack.gateways) {
        const url = gateway.process.lines.map((l) => inspectorUrlIn(String(l.msg ?? ''))).find(Boolean);
        if (!url) throw new Error('gateway printed no inspector address');
        heapUsed += await collectGarbage(url);
      }
      return heapUsed;
    },
    cpuGroups: () => {
      const groups: CpuGroups = {};
      for (const p of stack.processes) groups[p.name] = [...(groups[p.name] ?? []), p.child.pid as number];
      return groups;
    },
    token: tokenFor,
    async createRooms(rooms) {
      const owner = tokenFor('bench-owner');
      const call = async (method: string, path: string, body: unknown) => {
        const response = await fetch(`${http()}${path}`, {
          method,
          headers: { authorization: `Bearer ${owner}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
        return (await response.json()) as { id: string };
      };
      const ids: string[] = [];
      for (const room of rooms) {
        // A request names at most 500 members: create with the first 500, add the rest in chunks.
        const created = await call('POST', '/v1/rooms', { kind: 'group', title: 'bench', member_ids: room.members.slice(0, 500) });
        for (let i = 500; i < room.members.length; i += 500) {
          await call('POST', `/v1/rooms/${created.id}/members`, { member_ids: room.members.slice(i, i + 500) });
        }
        ids.push(created.id);
      }
      // What autovacuum's analyze does on a normal server a minute after a bulk load (it is off on
      // this machine): without statistics Postgres plans some lookups as scans, and the bench
      // would measure the missing statistics, not the stack.
      const analyzer = new pg.Client({ connectionString: stack.databaseUrl });
      await analyzer.connect();
      try {
        await analyzer.query('analyze');
      } finally {
        await analyzer.end();
      }
      return ids;
    },
    async stop() {
      // Warnings and errors the stack logged during the scenario, so a bad run says why.
      const counts = new Map<string, number>();
      for (const proc of stack.processes) {
        for (const line of proc.lines) {
          if (line.level !== 'warn' && line.level !== 'error' && line.level !== 'fatal') continue;
          const key = `${proc.name} ${String(line.level)}: ${String(line.msg).slice(0, 100)}`;
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
      }
      for (const [key, count] of counts) progress(`chat log: ${count}× ${key}`);
      await stack.stop();
    },
  };
}

async function forkServer(script: string, env: Record<string, string>): Promise<{ child: ChildProcess; port: number; inspector: string }> {
  const child = fork(join(distDir, script), [], {
    env: { ...process.env, ...env },
    execArgv: [INSPECT_ARG],
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  });
  let inspector: string | undefined;
  child.stderr?.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    inspector ??= inspectorUrlIn(text);
    if (!inspectorUrlIn(text) && !text.startsWith('For help, see')) process.stderr.write(text);
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message) => resolve((message as { ready: number }).ready));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  if (!inspector) throw new Error(`${script} printed no inspector address`);
  return { child, port, inspector };
}

/** A baseline server forked from `script`: a room is just a name, and it has no tokens or metrics. */
async function startBaseline(
  name: 'bare-uws' | 'socketio',
  script: string,
  env: Record<string, string>,
  afterStop: () => Promise<void> = async () => undefined,
): Promise<Target> {
  const { child, port, inspector } = await forkServer(script, { PORT: '0', ...env });
  return {
    name,
    protocol: name === 'bare-uws' ? 'uws' : 'socketio',
    wsUrls: [`${name === 'bare-uws' ? 'ws' : 'http'}://127.0.0.1:${port}`],
    edgePids: () => [child.pid as number],
    cpuGroups: () => ({ server: [child.pid as number] }),
    collectGarbage: () => collectGarbage(inspector),
    metricsUrls: () => [],
    token: () => undefined,
    createRooms: async (rooms) => rooms.map(() => randomUUID()),
    stop: async () => {
      child.kill('SIGKILL');
      await afterStop();
    },
  };
}

export function startBareUws(): Promise<Target> {
  return startBaseline('bare-uws', 'uws-server.js', {});
}

export async function startSocketIo(infra: Infra): Promise<Target> {
  const database = `bench_socketio_${randomUUID().slice(0, 8)}`;
  await createDatabase(infra.adminDatabaseUrl, database);
  return startBaseline('socketio', 'socketio-server.js', { DATABASE_URL: databaseUrlFor(infra.adminDatabaseUrl, database) }, () =>
    dropDatabase(infra.adminDatabaseUrl, database),
  );
}
