import type { Migration } from 'kysely';
import * as devices from './0001_devices.js';
import * as pushLedger from './0002_push_ledger.js';
import * as renotify from './0003_renotify.js';
import * as hostEvents from './0004_host_events.js';

/** Ordered by name; a new migration gets the next number and is never edited once released. */
export const notifyMigrations: Record<string, Migration> = {
  '0001_devices': devices,
  '0002_push_ledger': pushLedger,
  '0003_renotify': renotify,
  '0004_host_events': hostEvents,
};
