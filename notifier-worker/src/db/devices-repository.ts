import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { DeviceRow, NotifyDatabase } from './schema.js';

/**
 * Registers a token for a user. A token belongs to one user: registering it again from another
 * account (a reinstalled or handed-over phone) moves it, so nobody gets another person's pushes.
 */
export async function upsertDevice(
  db: Kysely<NotifyDatabase>,
  device: { token: string; user_id: string; platform: DeviceRow['platform']; app_id: string | null },
): Promise<{ row: DeviceRow; created: boolean }> {
  const row = await db
    .insertInto('notify.devices')
    .values(device)
    .onConflict((oc) =>
      oc
        .column('token')
        .doUpdateSet({ user_id: device.user_id, platform: device.platform, app_id: device.app_id, registered_at: sql`now()` }),
    )
    .returning(['token', 'user_id', 'platform', 'app_id', 'registered_at', sql<boolean>`(xmax = 0)`.as('inserted')])
    .executeTakeFirstOrThrow();
  const { inserted, ...rest } = row;
  return { row: rest, created: inserted };
}

export async function deleteDevice(db: Kysely<NotifyDatabase>, token: string, userId: string): Promise<boolean> {
  const result = await db.deleteFrom('notify.devices').where('token', '=', token).where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function devicesOf(db: Kysely<NotifyDatabase>, userId: string): Promise<DeviceRow[]> {
  return db.selectFrom('notify.devices').selectAll().where('user_id', '=', userId).orderBy('token').execute();
}

export async function usersWithDevices(db: Kysely<NotifyDatabase>, userIds: string[]): Promise<Set<string>> {
  if (userIds.length === 0) return new Set();
  const rows = await db.selectFrom('notify.devices').select('user_id').distinct().where('user_id', 'in', userIds).execute();
  return new Set(rows.map((r) => r.user_id));
}
