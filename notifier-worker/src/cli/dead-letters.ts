#!/usr/bin/env node
/**
 * Operator command for deliveries that failed for good (the dead-letter set):
 *   pnpm --filter ./notifier-worker dlq list            lists them, newest first
 *   pnpm --filter ./notifier-worker dlq replay [id...]  queues them again (all, or the ids given)
 * Reads REDIS_URL and CHAT_NAMESPACE like the worker.
 */
import { NamespaceSchema, parseEnv, redisEnvShape } from '@chat/shared/config';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { bullPrefix, type DeliverJob, QUEUE_NAMES } from '../jobs/queues.js';

async function main(): Promise<void> {
  const [command, ...ids] = process.argv.slice(2);
  if (command !== 'list' && command !== 'replay') throw new Error('usage: dlq list | dlq replay [job-id ...]');
  const env = parseEnv(z.object({ ...redisEnvShape, CHAT_NAMESPACE: NamespaceSchema.default('chat') }));
  const connection = new Redis(env.REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue<DeliverJob>(QUEUE_NAMES.deliver, { connection, prefix: bullPrefix(env.CHAT_NAMESPACE) });
  try {
    const failed = await queue.getFailed(0, 10_000);
    const chosen = ids.length ? failed.filter((job) => ids.includes(job.id ?? '')) : failed;
    if (command === 'list') {
      for (const job of chosen) {
        const { target, notification } = job.data;
        process.stdout.write(
          `${job.id}\t${target.platform}\t${notification.kind === 'alert' ? notification.push.user_id : notification.user_id}\tattempts=${job.attemptsMade}\t${new Date(job.finishedOn ?? job.timestamp).toISOString()}\t${job.failedReason}\n`,
        );
      }
      process.stdout.write(`${chosen.length} dead-lettered deliveries\n`);
      return;
    }
    for (const job of chosen) await job.retry('failed');
    process.stdout.write(`replayed ${chosen.length} deliveries\n`);
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
});
