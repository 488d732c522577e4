import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import jwt from 'jsonwebtoken';
import { connect } from 'nats';
import { createDatabase, databaseUrlFor, dropDatabase } from './scratch-database.js';

/** The workspace root: the nearest folder up with pnpm-workspace.yaml (works from sources and bundles). */
function workspaceRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('workspace root not found');
    dir = parent;
  }
  return dir;
}
const root = workspaceRoot();
export const TEST_JWT_SECRET = 'integration-test-secret-0123456789abcdef';

type ProcessName = 'rooms-service' | 'messages-service' | 'notifier-worker' | 'gateway';

/** One running process of the stack, with its log kept for assertions and failure reports. */
export class StackProcess {
  readonly lines: Record<string, unknown>[] = [];
  private readonly exited: Promise<number | null>;
  private readonly lineWaiters: Array<{
    match: (line: Record<string, unknown>) => boolean;
    resolve: (line: Record<string, unknown>) => void;
  }> = [];

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    let buffered = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const text of parts) this.record(text);
    });
    child.stderr?.on('data', (chunk: Buffer) => this.record(JSON.stringify({ level: 'stderr', msg: chunk.toString() })));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  private record(text: string): void {
    if (!text.trim()) return;
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text) as Record<string, unknown>;
    } catch {
      line = { level: 'raw', msg: text };
    }
    this.lines.push(line);
    for (const waiter of [...this.lineWaiters]) {
      if (waiter.match(line)) {
        this.lineWaiters.splice(this.lineWaiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  }

  /** Resolves with the first log line (past or future) that matches; rejects if the process exits first. */
  waitForLine(match: (line: Record<string, unknown>) => boolean, timeoutMs = 20_000): Promise<Record<string, unknown>> {
    const seen = this.lines.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no matching log line in ${timeoutMs} ms\n${this.tail()}`)), timeoutMs);
      this.lineWaiters.push({
        match,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
      void this.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited with ${code} before the awaited log line\n${this.tail()}`));
      });
    });
  }

  tail(n = 15): string {
    return this.lines
      .slice(-n)
      .map((l) => JSON.stringify(l))
      .join('\n');
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }

  waitForExit(): Promise<number | null> {
    return this.exited;
  }
}

export interface Gateway {
  process: StackProcess;
  httpUrl: string;
  wsUrl: string;
  /** /metrics, /healthz, /readyz (GATEWAY_OPS_PORT). */
  opsUrl: string;
}

/**
 * How long a process may take to say it is ready. Generous: on a loaded 2-core machine a service
 * waiting for a new JetStream cluster to elect its leaders has been seen to need more than 20 s;
 * the hooks' own timeouts still bound a start that never completes.
 */
const READY_TIMEOUT_MS = 50_000;

export interface StackOptions {
  gateways?: number;
  /** Start the notifier worker too (with these extra variables). */
  notifier?: Record<string, string>;
  env?: Record<string, string>;
  /** Extra Node.js flags for every process (profiling: --cpu-prof, --heapsnapshot-signal). */
  nodeArgs?: string[];
}

/**
 * A whole stack for one test file: its own namespace (NATS subjects, stream, consumers), its own
 * database, real processes. `stop()` ends the processes and removes everything it created.
 */
export interface Infra {
  adminDatabaseUrl: string;
  natsUrl: string;
  redisUrl: string;
}

export class Stack {
  readonly namespace: string;
  readonly databaseName: string;
  readonly processes: StackProcess[] = [];
  readonly gateways: Gateway[] = [];
  readonly databaseUrl: string;

  constructor(
    private readonly infra: Infra,
    private readonly options: StackOptions = {},
    prefix = 't',
  ) {
    this.namespace = `${prefix}${randomBytes(5).toString('hex')}`;
    this.databaseName = `chat_${this.namespace}`;
    this.databaseUrl = databaseUrlFor(this.infra.adminDatabaseUrl, this.databaseName);
  }

  get natsUrl(): string {
    return this.infra.natsUrl;
  }

  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      CHAT_NAMESPACE: this.namespace,
      DATABASE_URL: this.databaseUrl,
      DATABASE_POOL_MAX: '4',
      NATS_URL: this.infra.natsUrl,
      REDIS_URL: this.infra.redisUrl,
      JWT_SECRET: TEST_JWT_SECRET,
      ROOMS_HTTP_PORT: '0',
      MESSAGES_HTTP_PORT: '0',
      NOTIFIER_HTTP_PORT: '0',
      GATEWAY_HTTP_PORT: '0',
      GATEWAY_WS_PORT: '0',
      // Any free port, so stacks running side by side do not collide; read from 'gateway ready'.
      GATEWAY_OPS_PORT: '0',
      GATEWAY_HOST: '127.0.0.1',
      SHUTDOWN_DRAIN_WINDOW_MS: '200',
      // Tests send in bursts; the rate-limit tests set their own, small, limits.
      RATE_LIMIT_SENDS_PER_S: '10000',
      RATE_LIMIT_SENDS_BURST: '10000',
      RATE_LIMIT_EDITS_PER_S: '10000',
      RATE_LIMIT_EDITS_BURST: '10000',
      RATE_LIMIT_REACTIONS_PER_S: '10000',
      RATE_LIMIT_REACTIONS_BURST: '10000',
      RATE_LIMIT_TYPING_PER_S: '10000',
      RATE_LIMIT_TYPING_BURST: '10000',
      RATE_LIMIT_CONNECTS_PER_S: '10000',
      RATE_LIMIT_CONNECTS_BURST: '10000',
      RATE_LIMIT_ROOM_CREATES_PER_S: '10000',
      RATE_LIMIT_ROOM_CREATES_BURST: '10000',
      RATE_LIMIT_SEARCHES_PER_S: '10000',
      RATE_LIMIT_SEARCHES_BURST: '10000',
      RATE_LIMIT_UPLOADS_PER_S: '10000',
      RATE_LIMIT_UPLOADS_BURST: '10000',
      RATE_LIMIT_DEVICE_REGISTRATIONS_PER_S: '10000',
      RATE_LIMIT_DEVICE_REGISTRATIONS_BURST: '10000',
      RATE_LIMIT_CONNECTS_PER_ADDRESS_PER_S: '100000',
      RATE_LIMIT_CONNECTS_PER_ADDRESS_BURST: '100000',
      WS_MAX_SOCKETS_PER_USER: '10000',
      ...this.options.env,
      ...extra,
    };
  }

  /** Creates the stack's own database (start does; a test that starts the processes itself calls it). */
  createDatabase(): Promise<void> {
    return createDatabase(this.infra.adminDatabaseUrl, this.databaseName);
  }

  async start(): Promise<this> {
    await this.createDatabase();
    await Promise.all([
      this.startService('rooms-service'),
      this.startService('messages-service'),
      ...(this.options.notifier ? [this.startService('notifier-worker', this.options.notifier)] : []),
    ]);
    for (let i = 0; i < (this.options.gateways ?? 1); i++) await this.startGateway();
    return this;
  }

  spawn(name: ProcessName, extraEnv: Record<string, string> = {}): StackProcess {
    const dist = join(root, name, 'dist');
    const child = spawn(
      process.execPath,
      [...(this.options.nodeArgs ?? []), '--enable-source-maps', '--import', join(dist, 'instrument.js'), join(dist, 'main.js')],
      {
        cwd: join(root, name),
        env: this.env(extraEnv),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const proc = new StackProcess(name, child);
    this.processes.push(proc);
    return proc;
  }

  async startService(name: Exclude<ProcessName, 'gateway'>, extraEnv: Record<string, string> = {}): Promise<StackProcess> {
    const proc = this.spawn(name, extraEnv);
    await proc.waitForLine((l) => typeof l.msg === 'string' && l.msg.endsWith('service ready'), READY_TIMEOUT_MS);
    return proc;
  }

  async startGateway(extraEnv: Record<string, string> = {}): Promise<Gateway> {
    const proc = this.spawn('gateway', extraEnv);
    const ready = await proc.waitForLine((l) => l.msg === 'gateway ready', READY_TIMEOUT_MS);
    const gateway = {
      process: proc,
      httpUrl: `http://127.0.0.1:${ready.http_port}`,
      wsUrl: `ws://127.0.0.1:${ready.ws_port}`,
      opsUrl: `http://127.0.0.1:${ready.ops_port}`,
    };
    this.gateways.push(gateway);
    return gateway;
  }

  gateway(index = 0): Gateway {
    const gateway = this.gateways[index];
    if (!gateway) throw new Error(`no gateway ${index}`);
    return gateway;
  }

  async stop(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.stop()));
    const nc = await connect({ servers: this.infra.natsUrl });
    try {
      const jsm = await nc.jetstreamManager();
      await jsm.streams.delete(`${this.namespace}_room_events`).catch(() => false);
      await jsm.streams.delete(`${this.namespace}_room_activity`).catch(() => false);
    } finally {
      await nc.close();
    }
    const redis = new Redis(this.infra.redisUrl);
    try {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${this.namespace}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length) await redis.del(...keys);
      } while (cursor !== '0');
    } finally {
      redis.disconnect();
    }
    await dropDatabase(this.infra.adminDatabaseUrl, this.databaseName);
  }
}

export function mintToken(
  userId: string,
  options: { name?: string; roles?: string[]; expiresIn?: number; secret?: string; algorithm?: jwt.Algorithm } = {},
): string {
  const payload: Record<string, unknown> = { sub: userId };
  if (options.name) payload.name = options.name;
  if (options.roles) payload.roles = options.roles;
  return jwt.sign(payload, options.secret ?? TEST_JWT_SECRET, {
    algorithm: options.algorithm ?? 'HS256',
    expiresIn: options.expiresIn ?? 3600,
  });
}
