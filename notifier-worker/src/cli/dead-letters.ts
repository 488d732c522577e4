#!/usr/bin/env node
/**
 * Operator command for deliveries that failed for good (dead letters of the push ledger):
 *   pnpm --filter ./notifier-worker dlq list            lists them, newest first
 *   pnpm --filter ./notifier-worker dlq replay [id...]  queues them again (all, or the ids given)
 * Reads DATABASE_URL, REDIS_URL and CHAT_NAMESPACE like the worker.
 */
import { databaseEnvShape, NamespaceSchema, redisEnvShape } from '@chat/shared/config';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { deadBatches, reviveBatches } from '../db/ledger-repository.js';
import { bullPrefix, type DeliverJob, QUEUE_NAMES, scheduleDelivery } from '../jobs/queues.js';
import { runDeadLetterCommand } from './dead-letter-command.js';

runDeadLetterCommand({
  name: 'dlq',
  noun: 'deliveries',
  env: z.object({
    ...databaseEnvShape,
    ...redisEnvShape,
    CHAT_NAMESPACE: NamespaceSchema.default('chat'),
    NOTIFY_MAX_ATTEMPTS: z.coerce.number().int().positive().default(6),
  }),
  list: (db) => deadBatches(db, 10_000),
  line: (batch) =>
    `${batch.id}\t${batch.platform}\t${batch.user_id}\troom=${batch.room_id}\tmessages=${batch.message_ids.length}\tattempts=${batch.attempts}\t${(batch.finished_at ?? batch.created_at).toISOString()}\t${batch.last_error ?? ''}`,
  async replay(db, ids, env) {
    const revived = await reviveBatches(db, ids);
    const connection = new Redis(env.REDIS_URL, { maxRetriesPerRequest: null });
    const queue = new Queue<DeliverJob>(QUEUE_NAMES.deliver, { connection, prefix: bullPrefix(env.CHAT_NAMESPACE) });
    try {
      // The failed job keeps the batch's id; it must go before the batch can be queued under it again.
      for (const id of revived) await (await queue.getJob(id))?.remove();
      await scheduleDelivery(queue, revived, env.NOTIFY_MAX_ATTEMPTS);
    } finally {
      await queue.close();
      connection.disconnect();
    }
    return revived.length;
  },
});
