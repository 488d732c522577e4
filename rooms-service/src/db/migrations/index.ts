import type { Migration } from 'kysely';
import * as initial from './0001_initial.js';
import * as roomLifecycle from './0002_room_lifecycle.js';
import * as blocksAndBans from './0003_blocks_and_bans.js';
import * as activityOutbox from './0004_activity_outbox.js';

/** Ordered by name; a new migration gets the next number and is never edited once released. */
export const roomsMigrations: Record<string, Migration> = {
  '0001_initial': initial,
  '0002_room_lifecycle': roomLifecycle,
  '0003_blocks_and_bans': blocksAndBans,
  '0004_activity_outbox': activityOutbox,
};
