#!/usr/bin/env node
/**
 * Operator command for the event webhook's dead letters (events that failed
 * EVENTS_WEBHOOK_MAX_ATTEMPTS times):
 *   pnpm --filter ./notifier-worker events:dead-letters         lists them, oldest first
 *   pnpm --filter ./notifier-worker events:replay [id ...]      queues them again (all, or the ids given)
 * A replayed event keeps its id (the webhook-id) and body, and starts again with fresh attempts;
 * it is delivered before later events of its room that are still queued, but after those already
 * delivered. Reads DATABASE_URL like the worker; a running notifier delivers what is replayed.
 */
import { databaseEnvShape, parseEnv } from '@chat/shared/config';
import { openDatabase } from '@chat/shared/db';
import { createLogger } from '@chat/shared/logging';
import { z } from 'zod';
import { deadHostEvents, reviveHostEvents } from '../db/host-events-repository.js';
import type { NotifyDatabase } from '../db/schema.js';

async function main(): Promise<void> {
  const [command, ...ids] = process.argv.slice(2);
  if (command !== 'list' && command !== 'replay') throw new Error('usage: host-events list | host-events replay [id ...]');
  const env = parseEnv(z.object({ ...databaseEnvShape }));
  const database = openDatabase<NotifyDatabase>(env.DATABASE_URL, {
    poolMax: 2,
    applicationName: 'notifier-host-events',
    logger: createLogger({ service: 'notifier-host-events', version: '0.1.0', level: 'warn' }),
  });
  try {
    if (command === 'list') {
      const dead = await deadHostEvents(database.db, 100_000);
      const chosen = ids.length ? dead.filter((e) => ids.includes(e.id)) : dead;
      for (const event of chosen) {
        process.stdout.write(
          `${event.id}\t${event.type}\troom=${event.room_id}\tattempts=${event.attempts}\t${(event.finished_at ?? event.created_at).toISOString()}\t${event.last_error ?? ''}\n`,
        );
      }
      process.stdout.write(`${chosen.length} dead-lettered events\n`);
      return;
    }
    const revived = await reviveHostEvents(database.db, ids.length ? ids : 'all');
    process.stdout.write(`replayed ${revived.length} events\n`);
  } finally {
    await database.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
