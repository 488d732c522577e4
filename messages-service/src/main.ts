import { Counter, exitOnStartupError, Gauge, Histogram } from '@chat/shared/ops';
import { bootService, runService } from '@chat/shared/service';
import { loadMessagesConfig } from './config.js';
import { messagesMigrations } from './db/migrations/index.js';
import type { MessagesDatabase } from './db/schema.js';
import { MessagesDomain } from './domain/messages.js';
import { CachedRoomAccess, roomAccessOverNats } from './handlers/rooms-access.js';
import { messagesEndpoints } from './handlers/rpc.js';
import { OutboxRelay } from './outbox/relay.js';

async function main(): Promise<void> {
  const config = loadMessagesConfig();
  const runtime = await bootService<MessagesDatabase>({
    service: 'messages-service',
    config,
    schema: 'messages',
    migrations: messagesMigrations,
  });
  const { database, nats, rpc, logger, registry } = runtime;

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
  new Gauge({
    name: 'chat_outbox_oldest_unpublished_seconds',
    help: 'Age of the oldest room event not yet handed to JetStream (0 when none): the relay lag',
    registers: [registry],
    async collect() {
      const { rows } = await database.pool.query<{ age: number | null }>(
        'select extract(epoch from now() - min(created_at))::float8 as age from messages.outbox',
      );
      this.set(rows[0]?.age ?? 0);
    },
  });

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

  const access = new CachedRoomAccess(roomAccessOverNats(rpc), nats.nc, config.CHAT_NAMESPACE, config.MEMBERSHIP_CACHE_MS);
  const domain = new MessagesDomain(database, access, {
    maxBodyChars: config.MESSAGE_MAX_CHARS,
    replayMaxEvents: config.REPLAY_MAX_EVENTS,
    maxDistinctReactions: config.MAX_DISTINCT_REACTIONS,
    sendBatchMax: config.SEND_BATCH_MAX,
    sendBatchParallel: config.SEND_BATCH_PARALLEL,
  });

  await runService(runtime, {
    name: 'messages',
    endpoints: messagesEndpoints(domain),
    port: config.MESSAGES_HTTP_PORT,
    onRequestDone: (endpoint, outcome) => {
      if (endpoint.name === 'send' && outcome === 'ok') relay.nudge();
    },
    stopWork: async () => {
      access.stop();
      // Publish what was committed before going, so a rolling restart adds no latency.
      await relay.stop();
    },
  });
}

main().catch((error: unknown) => exitOnStartupError(error));
