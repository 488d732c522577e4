import type { Migration } from 'kysely';
import * as devices from './0001_devices.js';

/** Ordered by name; a new migration gets the next number and is never edited once released. */
export const notifyMigrations: Record<string, Migration> = {
  '0001_devices': devices,
};
