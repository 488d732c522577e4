import { exitOnStartupError } from '@chat/shared/ops';
import { PresenceRegistry } from '@chat/shared/presence';
import { messagesRpc, roomsRpc } from '@chat/shared/rpc';
import { bootService, runService } from '@chat/shared/service';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { loadNotifierConfig } from './config.js';
import { notifyMigrations } from './db/migrations/index.js';
import type { NotifyDatabase } from './db/schema.js';
import { DevicesDomain } from './domain/devices.js';
import { runDecisionConsumer } from './handlers/message-events.js';
import { subscribeReadSignals } from './handlers/read-signals.js';
import { notifierEndpoints } from './handlers/rpc.js';
import { PushBatches } from './jobs/batches.js';
import { processCoalesceJob } from './jobs/coalesce-worker.js';
import { processDeliverJob } from './jobs/deliver-worker.js';
import type { PushSources } from './jobs/ports.js';
import { backoffWithJitter, bullPrefix, bullTelemetry, createQueues, QUEUE_NAMES } from './jobs/queues.js';
import { createPushMetrics } from './metrics.js';
import { configuredProviders } from './providers/index.js';

async function main(): Promise<void> {
  const config = loadNotifierConfig();
  const providers = configuredProviders(config);
  const runtime = await bootService<NotifyDatabase>({
    service: 'notifier-worker',
    config,
    schema: 'notify',
    migrations: notifyMigrations,
    announce: (logger) => logger.info({ platforms: Object.keys(providers) }, 'push providers configured'),
  });
  const { database, nats, rpc, logger, registry } = runtime;
  // BullMQ needs a connection that never gives up on a command; ours for scripts and presence too.
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: null });
  redis.on('error', (error) => logger.warn({ err: error }, 'redis error'));

  const sources: PushSources = {
    pushFacts: (roomId, userIds) => rpc.call(roomsRpc.pushFacts, { room_id: roomId, user_ids: userIds }),
    messageStates: async (roomId, ids) => (await rpc.call(messagesRpc.messageStates, { room_id: roomId, message_ids: ids })).messages,
    unreadTotal: async (userId) => (await rpc.call(roomsRpc.unreadSummary, { actor: { user_id: userId, name: null, roles: [] } })).total,
    presence: new PresenceRegistry(redis, config.CHAT_NAMESPACE, config.PRESENCE_TTL_MS),
  };
  const queues = createQueues(redis, config.CHAT_NAMESPACE);
  const funnel = createPushMetrics(registry, queues);
  const batches = new PushBatches(redis, config.CHAT_NAMESPACE, Math.max(config.NOTIFY_COALESCE_MS * 10, 10 * 60_000));
  const workerOptions = {
    connection: redis,
    prefix: bullPrefix(config.CHAT_NAMESPACE),
    concurrency: config.NOTIFY_CONCURRENCY,
    lockDuration: config.NOTIFY_JOB_LOCK_MS,
    stalledInterval: config.NOTIFY_JOB_LOCK_MS,
    settings: { backoffStrategy: backoffWithJitter(config.NOTIFY_BACKOFF_MS) },
    telemetry: bullTelemetry(),
  };
  const coalesceWorker = new Worker(
    QUEUE_NAMES.coalesce,
    (job) =>
      processCoalesceJob(job, { db: database.db, batches, queues, sources, funnel, logger, deliveryAttempts: config.NOTIFY_MAX_ATTEMPTS }),
    workerOptions,
  );
  const deliverWorker = new Worker(
    QUEUE_NAMES.deliver,
    (job) => processDeliverJob(job, { db: database.db, redis, namespace: config.CHAT_NAMESPACE, providers, funnel, logger }),
    workerOptions,
  );
  for (const worker of [coalesceWorker, deliverWorker]) {
    worker.on('failed', (job, error) =>
      logger.warn({ queue: worker.name, job_id: job?.id, attempts: job?.attemptsMade, err: error }, 'push job failed'),
    );
    worker.on('error', (error) => logger.error({ queue: worker.name, err: error }, 'push worker error'));
  }

  const decisions = await runDecisionConsumer(nats.nc, config.CHAT_NAMESPACE, {
    db: database.db,
    batches,
    queues,
    sources,
    funnel,
    logger,
    coalesceMs: config.NOTIFY_COALESCE_MS,
    ackWaitMs: config.NOTIFY_EVENT_ACK_WAIT_MS,
  });
  const reads = subscribeReadSignals(nats.nc, config.CHAT_NAMESPACE, queues, logger);

  await runService(runtime, {
    name: 'notifier',
    endpoints: notifierEndpoints(new DevicesDomain(database.db, new Set(Object.keys(providers) as Array<keyof typeof providers>))),
    port: config.NOTIFIER_HTTP_PORT,
    checks: [{ name: 'redis', ok: () => redis.status === 'ready' }],
    stopWork: async () => {
      reads.unsubscribe();
      await decisions.stop();
      // close() lets the jobs in hand finish; what is waiting stays in Redis for the next worker.
      await Promise.all([coalesceWorker.close(), deliverWorker.close()]);
      await Promise.all([queues.coalesce.close(), queues.deliver.close()]);
    },
    release: async () => {
      await redis.quit();
    },
  });
}

main().catch((error: unknown) => exitOnStartupError(error));
