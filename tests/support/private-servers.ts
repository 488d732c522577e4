import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';

/**
 * A NATS or Redis server of a test's own, for tests that must stop, kill or restart one: the
 * shared local servers serve other runs and must never be touched. `restart()` comes back on the
 * same port, so clients reconnect as they would to a production server that restarted.
 */
export interface PrivateServer {
  readonly url: string;
  readonly port: number;
  /** Stops the server (SIGKILL with `kill: true`, else SIGTERM) and waits for it to exit. */
  stop(options?: { kill?: boolean }): Promise<void>;
  /** Starts it again on the same port and waits until it takes connections. */
  start(): Promise<void>;
  restart(options?: { kill?: boolean }): Promise<void>;
  /** Stops it for good and removes its files. */
  dispose(): Promise<void>;
}

/** A single NATS server with JetStream; its store survives restarts (like a persistent volume). */
export function privateNats(): Promise<PrivateServer> {
  const storeDir = mkdtempSync(join(tmpdir(), 'chat-nats-'));
  return privateServer('nats', storeDir, (port) => ({
    command: 'nats-server',
    args: ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir],
  }));
}

/** A JetStream cluster of its own: `nodes` servers routed to each other, each with its own store. */
export interface PrivateNatsCluster {
  readonly nodes: PrivateServer[];
  /** Every node's client URL, comma-separated, as NATS_URL takes them. */
  readonly urls: string;
  dispose(): Promise<void>;
}

/** Starts a `size`-node JetStream cluster (each node restartable on its ports, keeping its store). */
export async function privateNatsCluster(size = 3): Promise<PrivateNatsCluster> {
  const routePorts = await Promise.all(Array.from({ length: size }, () => freePort()));
  const routes = routePorts.map((port) => `nats://127.0.0.1:${port}`).join(',');
  const nodes = await Promise.all(
    routePorts.map((routePort, i) => {
      const storeDir = mkdtempSync(join(tmpdir(), `chat-nats-c${i}-`));
      return privateServer('nats', storeDir, (port) => ({
        command: 'nats-server',
        args: [
          ...['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir, '--server_name', `n${i + 1}`],
          ...['--cluster_name', 'chat-test', '--cluster', `nats://127.0.0.1:${routePort}`, '--routes', routes],
        ],
      }));
    }),
  );
  await untilJetStreamAnswers(nodes.map((n) => n.url));
  return {
    nodes,
    urls: nodes.map((n) => n.url).join(','),
    async dispose() {
      await Promise.all(nodes.map((n) => n.dispose()));
    },
  };
}

/** A new cluster elects its JetStream meta leader a few seconds after the nodes listen. */
async function untilJetStreamAnswers(servers: string[], timeoutMs = 30_000): Promise<void> {
  const nc = await connect({ servers });
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await (await nc.jetstreamManager()).getAccountInfo();
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  } finally {
    await nc.close();
  }
}

/** A Redis that keeps nothing on disk: a restart loses every key, as a crashed cache would. */
export function privateRedis(): Promise<PrivateServer> {
  const dir = mkdtempSync(join(tmpdir(), 'chat-redis-'));
  return privateServer('redis', dir, (port) => ({
    command: 'redis-server',
    args: ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir],
  }));
}

type Kind = 'nats' | 'redis';

async function privateServer(
  kind: Kind,
  dir: string,
  commandFor: (port: number) => { command: string; args: string[] },
): Promise<PrivateServer> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const server: PrivateServer = {
    url: kind === 'nats' ? `nats://127.0.0.1:${port}` : `redis://127.0.0.1:${port}`,
    port,
    async start() {
      const { command, args } = commandFor(port);
      const started = spawn(command, args, { stdio: 'ignore' });
      child = started;
      exited = new Promise((resolve) => started.once('exit', () => resolve()));
      await untilAccepting(port, started);
    },
    async stop(options = {}) {
      if (child && child.exitCode === null && child.signalCode === null) child.kill(options.kill ? 'SIGKILL' : 'SIGTERM');
      await exited;
      child = undefined;
    },
    async restart(options = {}) {
      await server.stop(options);
      await server.start();
    },
    async dispose() {
      await server.stop({ kill: true });
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** Polls the port: a server process announces nothing we could await before it listens. */
async function untilAccepting(port: number, child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server on port ${port} exited with ${child.exitCode}`);
    if (await accepts(port)) return;
    if (Date.now() > deadline) throw new Error(`server on port ${port} did not listen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
