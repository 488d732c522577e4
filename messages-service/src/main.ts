import { randomUUID } from 'node:crypto';
import { durables, RoomActivityPublisher, registerConsumerLagMetrics, streams } from '@chat/shared/nats';
import { exitOnStartupError } from '@chat/shared/ops';
import { bootService, runService } from '@chat/shared/service';
import { CachedRoomsAccessClient, roomsAccessClient } from './clients/rooms-client.js';
import { loadMessagesConfig } from './config.js';
import { unreachableBlobsRepository } from './db/attachment-sweep-repository.js';
import { SqlMessageStore } from './db/messages-store.js';
import { messagesMigrations } from './db/migrations/index.js';
import { reportedMessages, reportStore } from './db/reports-repository.js';
import type { MessagesDatabase } from './db/schema.js';
import { openSendPool } from './db/send-batch.js';
import { AttachmentBlobs } from './domain/attachment-blobs.js';
import { MessageAttachments } from './domain/attachments.js';
import { MessagesDomain } from './domain/messages.js';
import { MessageReports } from './domain/reports.js';
import { RoomSync } from './domain/room-sync.js';
import { reportEventsOverNats, runReportEventSweep } from './handlers/report-events.js';
import { messagesEndpoints } from './handlers/rpc.js';
import { runSearchIndexer, SearchIndexProgress } from './handlers/search-indexer.js';
import { createOutboxMetrics } from './metrics.js';
import { CommitPublisher } from './outbox/publisher.js';
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

  const outboxMetrics = createOutboxMetrics(registry, database.pool);
  registerConsumerLagMetrics(registry, nats.nc, streams.roomEvents(config.CHAT_NAMESPACE), [durables.searchIndex(config.CHAT_NAMESPACE)]);

  const relay = new OutboxRelay(nats.nc.jetstream(), {
    databaseUrl: config.DATABASE_URL,
    namespace: config.CHAT_NAMESPACE,
    batchSize: config.OUTBOX_BATCH_SIZE,
    pollMs: config.OUTBOX_POLL_MS,
    logger,
    onPublished: outboxMetrics.onPublished,
  });
  relay.start();
  const publisher = new CommitPublisher(nats.nc.jetstream(), database.pool, {
    namespace: config.CHAT_NAMESPACE,
    clearMs: config.OUTBOX_CLEAR_MS,
    logger,
    onPublished: outboxMetrics.onPublished,
  });

  const searchIndexer = await runSearchIndexer(nats.nc, database.db, {
    namespace: config.CHAT_NAMESPACE,
    streamReplicas: config.NATS_STREAM_REPLICAS,
    lingerMs: config.SEARCH_INDEX_LINGER_MS,
    logger,
  });
  const searchProgress = new SearchIndexProgress(nats.nc, config.CHAT_NAMESPACE, { pollMs: 20 });

  const access = new CachedRoomsAccessClient(roomsAccessClient(rpc), nats.nc, config.CHAT_NAMESPACE, config.MEMBERSHIP_CACHE_MS);
  const sendPool = openSendPool(config.DATABASE_URL, { max: config.SEND_BATCH_PARALLEL, logger });
  runtime.observePool('send', sendPool);
  const store = new SqlMessageStore(database.db, database.pool, {
    sendPool,
    sendBatchMax: config.SEND_BATCH_MAX,
    sendBatchParallel: config.SEND_BATCH_PARALLEL,
    publishCommitted: (events) => publisher.publish(events),
    relayGraceMs: config.OUTBOX_GRACE_MS,
  });
  const domain = new MessagesDomain(store, access, {
    maxBodyChars: config.MESSAGE_MAX_CHARS,
    maxDistinctReactions: config.MAX_DISTINCT_REACTIONS,
    searchIndexCaughtUp: () => searchProgress.waitUntilCaughtUp(config.SEARCH_INDEX_WAIT_MS),
  });

  // No stream check at start (JetStream may still be forming a cluster): the rooms service makes
  // the activity stream, and the publisher makes it itself when a publish finds none.
  const activity = new RoomActivityPublisher(nats.nc, config.CHAT_NAMESPACE, logger, { replicas: config.NATS_STREAM_REPLICAS });
  const reports = new MessageReports(
    reportStore(database.db),
    reportedMessages(database.db),
    access,
    reportEventsOverNats(activity),
    randomUUID,
  );
  const reportSweep = runReportEventSweep(reports, { everyMs: 30_000, olderThanMs: 10_000, logger });

  await runService(runtime, {
    name: 'messages',
    endpoints: messagesEndpoints({
      messages: domain,
      sync: new RoomSync(store, access, { replayMaxEvents: config.REPLAY_MAX_EVENTS }),
      attachments: new MessageAttachments(store, access, config.ATTACHMENT_QUOTA_BYTES_PER_DAY),
      reports,
      blobs: new AttachmentBlobs(unreachableBlobsRepository(database.db), config.ATTACHMENT_UNUSED_TTL_MS),
    }),
    port: config.MESSAGES_HTTP_PORT,
    stopWork: async () => {
      access.stop();
      // Publish what was committed before going, so a rolling restart adds no latency.
      await publisher.stop();
      await relay.stop();
      await searchIndexer.stop();
      await reportSweep.stop();
      await activity.drain();
    },
    // After the endpoints finished their sends and the publisher its clears.
    release: () => sendPool.end(),
  });
}

main().catch((error: unknown) => exitOnStartupError(error));
