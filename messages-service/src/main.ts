import { migrateSchema, openDatabase } from '@chat/shared/db';
import { createLogger } from '@chat/shared/logging';
import { connectNats, ensureRoomEventStream, RpcClient, serveEndpoints } from '@chat/shared/nats';
import {
  Counter,
  createMetricsRegistry,
  createRpcClientMetrics,
  createRpcMetrics,
  exitOnStartupError,
  Gauge,
  Histogram,
  onShutdownSignal,
  readinessGrace,
  serviceOpsState,
  startOpsServer,
} from '@chat/shared/ops';
import { telemetry } from '@chat/shared/telemetry';
import { loadMessagesConfig } from './config.js';
import { messagesMigrations } from './db/migrations/index.js';
import type { MessagesDatabase } from './db/schema.js';
import { MessagesDomain } from './domain/messages.js';
import { CachedRoomAccess, roomAccessOverNats } from './handlers/rooms-access.js';
import { messagesEndpoints } from './handlers/rpc.js';
import { OutboxRelay } from './outbox/relay.js';

const SERVICE = 'messages-service';
const VERSION = process.env.npm_package_version ?? '0.1.0';

async function main(): Promise<void> {
  const config = loadMessagesConfig();
  const logger = createLogger({ service: SERVICE, version: VERSION, level: config.LOG_LEVEL });
  const registry = createMetricsRegistry(SERVICE);
  const rpcMetrics = createRpcMetrics(registry);
  const outboxPublished = new Counter({
    name: 'chat_outbox_published_total',
    help: 'Room events handed to JetStream',
    registers: [registry],
  });
  const outboxLag = new Histogram({
    name: 'chat_outbox_lag_seconds',
    help: 'Age of the oldest event of each published batch (commit to JetStream ack)',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    registers: [registry],
  });

  const database = openDatabase<MessagesDatabase>(config.DATABASE_URL, { poolMax: config.DATABASE_POOL_MAX, applicationName: SERVICE });
  await migrateSchema(database.db, 'messages', messagesMigrations, logger);
  new Gauge({
    name: 'chat_outbox_oldest_unpublished_seconds',
    help: 'Age of the oldest room event not yet handed to JetStream (0 when none): the relay lag',
    registers: [registry],
    async collect() {
      const { rows } = await database.pool.query<{ age: number | null }>(
        'select extract(epoch from now() - min(created_at))::float8 as age from messages.room_events where published_at is null',
      );
      this.set(rows[0]?.age ?? 0);
    },
  });
  const nats = await connectNats(config.NATS_URL, `${config.CHAT_NAMESPACE}-${SERVICE}`, logger);
  await ensureRoomEventStream(await nats.nc.jetstreamManager(), config.CHAT_NAMESPACE);

  const relay = new OutboxRelay(nats.nc.jetstream(), {
    databaseUrl: config.DATABASE_URL,
    namespace: config.CHAT_NAMESPACE,
    batchSize: config.OUTBOX_BATCH_SIZE,
    pollMs: config.OUTBOX_POLL_MS,
    logger,
    onPublished: (count, oldestAgeMs) => {
      outboxPublished.inc(count);
      outboxLag.observe(oldestAgeMs / 1000);
    },
  });
  relay.start();

  const rpc = new RpcClient(nats.nc, config.CHAT_NAMESPACE, {
    timeoutMs: config.RPC_TIMEOUT_MS,
    onCallDone: createRpcClientMetrics(registry),
  });
  const access = new CachedRoomAccess(roomAccessOverNats(rpc), nats.nc, config.CHAT_NAMESPACE, config.MEMBERSHIP_CACHE_MS);
  const domain = new MessagesDomain(database.db, access, {
    maxBodyChars: config.MESSAGE_MAX_CHARS,
    replayMaxEvents: config.REPLAY_MAX_EVENTS,
    maxDistinctReactions: config.MAX_DISTINCT_REACTIONS,
    sendBatchMax: config.SEND_BATCH_MAX,
    sendBatchParallel: config.SEND_BATCH_PARALLEL,
  });
  const endpoints = await serveEndpoints(
    nats.nc,
    {
      namespace: config.CHAT_NAMESPACE,
      service: 'messages',
      version: VERSION,
      logger,
      onRequestDone: (endpoint, outcome, seconds) => {
        rpcMetrics.observe(endpoint, outcome, seconds);
        if (endpoint.name === 'send' && outcome === 'ok') relay.nudge();
      },
    },
    messagesEndpoints(domain),
  );

  const ops = serviceOpsState(registry, { natsConnected: nats.isConnected, databaseReachable: database.ping });
  const opsServer = await startOpsServer(config.MESSAGES_HTTP_PORT, ops, logger);
  logger.info({ namespace: config.CHAT_NAMESPACE }, 'messages service ready');

  onShutdownSignal(logger, config.SHUTDOWN_TIMEOUT_MS, async () => {
    ops.shuttingDown = true;
    await readinessGrace(config.SHUTDOWN_READINESS_DELAY_MS);
    await endpoints.stop();
    access.stop();
    // Publish what was committed before going, so a rolling restart adds no latency.
    await relay.stop();
    await nats.nc.drain();
    await database.close();
    await opsServer.close();
    await telemetry().shutdown();
  });
}

main().catch((error: unknown) => exitOnStartupError(undefined, error));
