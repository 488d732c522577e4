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
import { databaseEnvShape } from '@chat/shared/config';
import { z } from 'zod';
import { deadHostEvents, reviveHostEvents } from '../db/host-events-repository.js';
import { runDeadLetterCommand } from './dead-letter-command.js';

runDeadLetterCommand({
  name: 'host-events',
  noun: 'events',
  env: z.object({ ...databaseEnvShape }),
  list: (db) => deadHostEvents(db, 100_000),
  line: (event) =>
    `${event.id}\t${event.type}\troom=${event.room_id}\tattempts=${event.attempts}\t${(event.finished_at ?? event.created_at).toISOString()}\t${event.last_error ?? ''}`,
  replay: async (db, ids) => (await reviveHostEvents(db, ids)).length,
});
