import { createServer } from 'node:net';
import { ChatClient, memoryOutbox, type WebSocketLike } from '@chat/shared/sdk';
import pg from 'pg';
import WebSocket from 'ws';
import { api } from '../../support/http.js';
import { type PrivateServer, privateNats, privateRedis } from '../../support/private-servers.js';
import { PushReceiver } from '../../support/push-receiver.js';
import { type Gateway, mintToken, Stack, type StackProcess } from '../../support/stack.js';

/**
 * One scenario's world: private NATS and Redis (faults restart them), its own database and
 * namespace, two gateways and two messages replicas on fixed ports (a killed process comes back
 * where its clients expect it, as under an orchestrator), the rooms service, the notifier with a
 * local webhook receiver, and the users: per room two online senders (one per gateway, through the
 * client SDK and its outbox) and one offline member holding a webhook device.
 */
export interface World {
  stack: Stack;
  nats: PrivateServer;
  redis: PrivateServer;
  webhook: PushReceiver;
  adminDatabaseUrl: string;
  rooms: Array<{ id: string; device: string; senders: ChatClient[] }>;
  receivers: ChatClient[];
  /** Kills the process with SIGKILL and starts it again on the same ports. */
  killAndRestart(name: 'gateway' | 'messages-service' | 'rooms-service' | 'notifier-worker'): Promise<void>;
  close(): Promise<void>;
}

const SECRET = 'faults-webhook-secret-0123456789';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function client(gateway: Gateway, token: string): ChatClient {
  return new ChatClient({
    url: gateway.wsUrl,
    httpUrl: gateway.httpUrl,
    token,
    createSocket: (url) => new WebSocket(url) as unknown as WebSocketLike,
    outbox: memoryOutbox(),
    backoff: { initialMs: 100, maxMs: 1000 },
  });
}

export async function createWorld(options: { rooms: number; adminDatabaseUrl: string }): Promise<World> {
  const [nats, redis, webhook] = await Promise.all([privateNats(), privateRedis(), new PushReceiver().start()]);
  const notifierEnv = { NOTIFY_WEBHOOK_URL: webhook.url, NOTIFY_WEBHOOK_SECRET: SECRET, NOTIFY_COALESCE_MS: '500' };
  const stack = new Stack(
    { adminDatabaseUrl: options.adminDatabaseUrl, natsUrl: nats.url, redisUrl: redis.url },
    { gateways: 0, notifier: notifierEnv },
    'f',
  );
  await stack.start();
  await stack.startService('messages-service');
  const gatewayPorts = await Promise.all(
    [0, 1].map(async () => ({ GATEWAY_HTTP_PORT: String(await freePort()), GATEWAY_WS_PORT: String(await freePort()) })),
  );
  const gateways: Gateway[] = [];
  for (const ports of gatewayPorts) gateways.push(await stack.startGateway(ports));

  const rooms: World['rooms'] = [];
  const receivers: ChatClient[] = [];
  for (let i = 0; i < options.rooms; i++) {
    const [a, b, offline] = ['a', 'b', 'off'].map((who) => `f${i}-${who}`) as [string, string, string];
    const tokens = [a, b].map((u) => mintToken(u, { name: u }));
    const offlineToken = mintToken(offline, { name: offline });
    const device = `faults-device-${i}`;
    const http = gateways[0]?.httpUrl as string;
    await api(http, 'PUT', `/v1/devices/${device}`, { token: offlineToken, body: { platform: 'webhook' } });
    const room = await api(http, 'POST', '/v1/rooms', {
      token: tokens[0],
      body: { kind: 'group', title: `faults ${i}`, member_ids: [b, offline] },
    });
    const id = room.body.id as string;
    const senders = tokens.map((token, g) => client(gateways[g] as Gateway, token));
    for (const sender of senders) {
      await sender.connect();
      await sender.subscribe(id);
    }
    rooms.push({ id, device, senders });
    receivers.push(senders[1] as ChatClient);
  }

  const processByName = (name: string) =>
    stack.processes.filter((p) => p.name === name && p.child.exitCode === null && p.child.signalCode === null);
  return {
    stack,
    nats,
    redis,
    webhook,
    adminDatabaseUrl: options.adminDatabaseUrl,
    rooms,
    receivers,
    async killAndRestart(name) {
      const victim = processByName(name)[0] as StackProcess;
      const index = stack.gateways.findIndex((g) => g.process === victim);
      await victim.stop('SIGKILL');
      if (name === 'gateway') {
        const [gateway] = stack.gateways.splice(index, 1);
        const ports = gatewayPorts.find((p) => gateway?.httpUrl.endsWith(`:${p.GATEWAY_HTTP_PORT}`));
        await stack.startGateway(ports ?? {});
      } else {
        await stack.startService(name, name === 'notifier-worker' ? notifierEnv : {});
      }
    },
    async close() {
      for (const room of rooms) for (const sender of room.senders) sender.close();
      await stack.stop();
      await Promise.all([nats.dispose(), redis.dispose(), webhook.stop()]);
    },
  };
}

/** Ends every Postgres connection of the world's database (an operator's pg_terminate_backend, a failover). */
export async function terminateDatabaseConnections(world: World): Promise<void> {
  const admin = new pg.Client({ connectionString: world.adminDatabaseUrl });
  await admin.connect();
  try {
    await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [
      world.stack.databaseName,
    ]);
  } finally {
    await admin.end();
  }
}
