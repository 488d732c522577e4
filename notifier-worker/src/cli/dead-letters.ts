#!/usr/bin/env node
/**
 * Operator command for deliveries that failed for good (dead letters of the push ledger):
 *   pnpm --filter ./notifier-worker dlq list            lists them, newest first
 *   pnpm --filter ./notifier-worker dlq replay [id...]  queues them again (all, or the ids given)
 * Reads DATABASE_URL, REDIS_URL and CHAT_NAMESPACE like the worker.
 */
import { databaseEnvShape, NamespaceSchema, parseEnv, redisEnvShape } from '@chat/shared/config';
import { openDatabase } from '@chat/shared/db';
import { createLogger } from '@chat/shared/logging';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { deadBatches, reviveBatches } from '../db/ledger-repository.js';
import type { NotifyDatabase } from '../db/schema.js';
import { bullPrefix, type DeliverJob, QUEUE_NAMES, scheduleDelivery } from '../jobs/queues.js';

async function main(): Promise<void> {
  const [command, ...ids] = process.argv.slice(2);
  if (command !== 'list' && command !== 'replay') throw new Error('usage: dlq list | dlq replay [id ...]');
  const env = parseEnv(
    z.object({
      ...databaseEnvShape,
      ...redisEnvShape,
      CHAT_NAMESPACE: NamespaceSchema.default('chat'),
      NOTIFY_MAX_ATTEMPTS: z.coerce.number().int().positive().default(6),
    }),
  );
  const database = openDatabase<NotifyDatabase>(env.DATABASE_URL, {
    poolMax: 2,
    applicationName: 'notifier-dlq',
    logger: createLogger({ service: 'notifier-dlq', version: '0.1.0', level: 'warn' }),
  });
  try {
    if (command === 'list') {
      const dead = await deadBatches(database.db, 10_000);
      const chosen = ids.length ? dead.filter((b) => ids.includes(b.id)) : dead;
      for (const batch of chosen) {
        process.stdout.write(
          `${batch.id}\t${batch.platform}\t${batch.user_id}\troom=${batch.room_id}\tmessages=${batch.message_ids.length}\tattempts=${batch.attempts}\t${(batch.finished_at ?? batch.created_at).toISOString()}\t${batch.last_error ?? ''}\n`,
        );
      }
      process.stdout.write(`${chosen.length} dead-lettered deliveries\n`);
      return;
    }
    const revived = await reviveBatches(database.db, ids.length ? ids : 'all');
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
    process.stdout.write(`replayed ${revived.length} deliveries\n`);
  } finally {
    await database.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
});
