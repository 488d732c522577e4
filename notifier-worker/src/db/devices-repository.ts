import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { DeviceStore } from '../domain/devices.js';
import type { DeviceRow, NotifyDatabase } from './schema.js';

/**
 * Registers a token for a user, or refreshes the user's own registration. A token another user
 * holds is left alone (`taken`): ownership never moves by naming a token. Beyond `maxPerUser`
 * devices, the user's least recently registered ones are removed, in the same transaction.
 */
export async function registerDevice(
  db: Kysely<NotifyDatabase>,
  device: { token: string; user_id: string; platform: DeviceRow['platform']; app_id: string | null },
  maxPerUser: number,
): Promise<{ row: DeviceRow; created: boolean } | 'taken'> {
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto('notify.devices')
      .values(device)
      .onConflict((oc) =>
        oc
          .column('token')
          .doUpdateSet({ platform: device.platform, app_id: device.app_id, registered_at: sql`now()` })
          .where('notify.devices.user_id', '=', device.user_id),
      )
      .returning(['token', 'user_id', 'platform', 'app_id', 'registered_at', sql<boolean>`(xmax = 0)`.as('inserted')])
      .executeTakeFirst();
    if (!row) return 'taken';
    await sql`
      delete from notify.devices where token in (
        select token from notify.devices where user_id = ${device.user_id}
        order by registered_at desc, token offset ${maxPerUser})`.execute(trx);
    const { inserted, ...rest } = row;
    return { row: rest, created: inserted };
  });
}

export async function deleteDevice(db: Kysely<NotifyDatabase>, token: string, userId: string): Promise<boolean> {
  const result = await db.deleteFrom('notify.devices').where('token', '=', token).where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** The device registry's store over Postgres. */
export const sqlDeviceStore = (db: Kysely<NotifyDatabase>): DeviceStore => ({
  register: (device, maxPerUser) => registerDevice(db, device, maxPerUser),
  delete: (token, userId) => deleteDevice(db, token, userId),
});

/** Removes a token whatever user holds it: its platform said it is dead. */
export async function pruneDevice(db: Kysely<NotifyDatabase>, token: string): Promise<void> {
  await db.deleteFrom('notify.devices').where('token', '=', token).execute();
}

export async function devicesOf(db: Kysely<NotifyDatabase>, userId: string): Promise<DeviceRow[]> {
  return db.selectFrom('notify.devices').selectAll().where('user_id', '=', userId).orderBy('token').execute();
}

export async function devicesOfUsers(db: Kysely<NotifyDatabase>, userIds: string[]): Promise<DeviceRow[]> {
  if (userIds.length === 0) return [];
  // One array parameter, not one per user: a batch of large rooms can name more users than a
  // statement may have parameters.
  return db
    .selectFrom('notify.devices')
    .selectAll()
    .where((eb) => eb('user_id', '=', eb.fn.any(eb.val(userIds))))
    .execute();
}
