import { HOST_EVENT_TYPES, hostEventTypes } from '@chat/shared';
import { exitOnStartupError } from '@chat/shared/ops';
import { PresenceRegistry } from '@chat/shared/presence';
import { bootService, runService, type ServiceRuntime } from '@chat/shared/service';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { servicesClient } from './clients/services-client.js';
import { loadNotifierConfig, type NotifierConfig } from './config.js';
import { sqlDeviceStore } from './db/devices-repository.js';
import { finishBatch } from './db/ledger-repository.js';
import { notifyMigrations } from './db/migrations/index.js';
import type { NotifyDatabase } from './db/schema.js';
import { DevicesDomain } from './domain/devices.js';
import { runHostEventIntake } from './handlers/host-events.js';
import { runDecisionConsumer } from './handlers/message-events.js';
import { subscribeReadSignals } from './handlers/read-signals.js';
import { notifierEndpoints } from './handlers/rpc.js';
import { processCoalesceJob } from './jobs/coalesce-worker.js';
import { processDeliverJob } from './jobs/deliver-worker.js';
import { EventWebhookDeliverer } from './jobs/event-webhook.js';
import type { PushSources } from './jobs/ports.js';
import { backoffWithJitter, bullPrefix, bullTelemetry, createQueues, QUEUE_NAMES } from './jobs/queues.js';
import { startRenotifier } from './jobs/renotify.js';
import { startSweeper } from './jobs/sweep.js';
import { createHostEventMetrics, createLedgerMetrics, createPushMetrics, registerDecisionLagMetrics } from './metrics.js';
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
    ...servicesClient(rpc),
    presence: new PresenceRegistry(redis, config.CHAT_NAMESPACE, config.PRESENCE_TTL_MS),
  };
  const queues = createQueues(redis, config.CHAT_NAMESPACE);
  const funnel = createPushMetrics(registry, queues);
  registerDecisionLagMetrics(registry, nats.nc, config.CHAT_NAMESPACE);
  const onRequeued = createLedgerMetrics(registry, database.db);
  // How long ledger work may go untouched before the sweep takes its job for lost: longer than a
  // stalled job takes to be taken over (lock + stalled check), so a live job is not doubled.
  const leaseMs = Math.max(2 * config.NOTIFY_JOB_LOCK_MS, 10_000);
  const backoff = backoffWithJitter(config.NOTIFY_BACKOFF_MS);
  const workerOptions = {
    connection: redis,
    prefix: bullPrefix(config.CHAT_NAMESPACE),
    concurrency: config.NOTIFY_CONCURRENCY,
    lockDuration: config.NOTIFY_JOB_LOCK_MS,
    stalledInterval: config.NOTIFY_JOB_LOCK_MS,
    settings: { backoffStrategy: backoff },
    telemetry: bullTelemetry(),
  };
  const coalesceWorker = new Worker(
    QUEUE_NAMES.coalesce,
    (job) =>
      processCoalesceJob(job, {
        db: database.db,
        queues,
        sources,
        funnel,
        logger,
        deliveryAttempts: config.NOTIFY_MAX_ATTEMPTS,
        leaseMs,
        coalesceMs: config.NOTIFY_COALESCE_MS,
      }),
    workerOptions,
  );
  const deliverWorker = new Worker(
    QUEUE_NAMES.deliver,
    (job) => processDeliverJob(job, { db: database.db, providers, funnel, logger, leaseMs, backoffMs: backoff }),
    workerOptions,
  );
  for (const worker of [coalesceWorker, deliverWorker]) {
    worker.on('failed', (job, error) =>
      logger.warn({ queue: worker.name, job_id: job?.id, attempts: job?.attemptsMade, err: error }, 'push job failed'),
    );
    worker.on('error', (error) => logger.error({ queue: worker.name, err: error }, 'push worker error'));
  }
  // A delivery out of attempts is a dead letter at once (the sweep would find it too, later).
  deliverWorker.on('failed', (job) => {
    if (!job || !('batch_id' in job.data) || job.attemptsMade < (job.opts.attempts ?? 1)) return;
    finishBatch(database.db, job.data.batch_id, 'dead', job.failedReason).catch((error: unknown) =>
      logger.warn({ err: error, job_id: job.id }, 'could not record a dead letter; the sweep will'),
    );
  });
  const sweeper = startSweeper(
    {
      db: database.db,
      queues,
      logger,
      leaseMs,
      deliveryAttempts: config.NOTIFY_MAX_ATTEMPTS,
      retentionHours: config.NOTIFY_LEDGER_RETENTION_HOURS,
      onRequeued,
    },
    config.NOTIFY_SWEEP_MS,
  );

  const renotifier = startRenotifier(
    {
      db: database.db,
      queues,
      sources,
      funnel,
      logger,
      everyMs: config.URGENT_RENOTIFY_MS,
      maxRounds: config.URGENT_RENOTIFY_MAX,
      leaseMs,
      deliveryAttempts: config.NOTIFY_MAX_ATTEMPTS,
    },
    // Often enough that a round is at most a fifth of the interval late; never busier than 10/s.
    Math.min(5000, Math.max(100, Math.round(config.URGENT_RENOTIFY_MS / 5))),
  );

  const decisions = await runDecisionConsumer(nats.nc, config.CHAT_NAMESPACE, {
    db: database.db,
    streamReplicas: config.NATS_STREAM_REPLICAS,
    queues,
    sources,
    funnel,
    logger,
    coalesceMs: config.NOTIFY_COALESCE_MS,
    ackWaitMs: config.NOTIFY_EVENT_ACK_WAIT_MS,
    leaseMs,
    renotify: { everyMs: config.URGENT_RENOTIFY_MS, maxRounds: config.URGENT_RENOTIFY_MAX },
  });
  const reads = subscribeReadSignals(nats.nc, config.CHAT_NAMESPACE, queues, logger);
  // Registered even with the webhook off, so its alerts and dashboards find the series (at 0).
  const onHostEventAttempt = createHostEventMetrics(registry, database.db);
  const hostEvents = await startEventWebhook(runtime, config, onHostEventAttempt);

  await runService(runtime, {
    name: 'notifier',
    endpoints: notifierEndpoints(
      new DevicesDomain(
        sqlDeviceStore(database.db),
        new Set(Object.keys(providers) as Array<keyof typeof providers>),
        config.DEVICES_MAX_PER_USER,
      ),
    ),
    port: config.NOTIFIER_HTTP_PORT,
    checks: [{ name: 'redis', ok: () => redis.status === 'ready' }],
    stopWork: async () => {
      reads.unsubscribe();
      await decisions.stop();
      await hostEvents?.stop();
      await sweeper.stop();
      await renotifier.stop();
      // close() lets the jobs in hand finish; what is waiting stays in Redis for the next worker.
      await Promise.all([coalesceWorker.close(), deliverWorker.close()]);
      await Promise.all([queues.coalesce.close(), queues.deliver.close()]);
    },
    release: async () => {
      await redis.quit();
    },
  });
}

/**
 * The event webhook for the host application (DESIGN 10.4), when EVENTS_WEBHOOK_URL is set: two
 * durable consumers queue events in Postgres, a deliverer POSTs them. It lives here because the
 * notifier is already the process that delivers signed webhooks with retries and dead letters,
 * it already consumes the room event stream durably, and no send or socket path waits on it.
 */
async function startEventWebhook(
  runtime: ServiceRuntime<NotifyDatabase>,
  config: NotifierConfig,
  onAttempt: ConstructorParameters<typeof EventWebhookDeliverer>[3],
) {
  if (!config.EVENTS_WEBHOOK_URL || !config.EVENTS_WEBHOOK_SECRET) return undefined;
  const { database, nats, logger } = runtime;
  const types = new Set(config.EVENTS_WEBHOOK_TYPES ?? HOST_EVENT_TYPES);
  const deliverer = new EventWebhookDeliverer(
    database.db,
    logger,
    {
      url: config.EVENTS_WEBHOOK_URL,
      secret: config.EVENTS_WEBHOOK_SECRET,
      maxAttempts: config.EVENTS_WEBHOOK_MAX_ATTEMPTS,
      backoffMs: config.EVENTS_WEBHOOK_BACKOFF_MS,
      maxBackoffMs: config.EVENTS_WEBHOOK_MAX_BACKOFF_MS,
      timeoutMs: config.EVENTS_WEBHOOK_TIMEOUT_MS,
      concurrency: config.EVENTS_WEBHOOK_CONCURRENCY,
      retentionHours: config.EVENTS_WEBHOOK_RETENTION_HOURS,
      // A redelivered event comes back after the ack wait: wait a little longer for it.
      ...(HOST_EVENT_TYPES.filter((t) => hostEventTypes[t].persisted).every((t) => types.has(t))
        ? { seqGapWaitMs: config.NOTIFY_EVENT_ACK_WAIT_MS + 5_000 }
        : {}),
    },
    onAttempt,
  );
  deliverer.start();
  const intake = await runHostEventIntake(nats.nc, config.CHAT_NAMESPACE, {
    db: database.db,
    logger,
    types,
    streamReplicas: config.NATS_STREAM_REPLICAS,
    ackWaitMs: config.NOTIFY_EVENT_ACK_WAIT_MS,
    onQueued: () => deliverer.wake(),
  });
  logger.info({ url: new URL(config.EVENTS_WEBHOOK_URL).origin, types: [...types] }, 'event webhook on');
  return {
    async stop() {
      await Promise.all(intake.map((consumer) => consumer.stop()));
      await deliverer.stop();
    },
  };
}

main().catch((error: unknown) => exitOnStartupError(error));
