import { type Kysely, sql, type Transaction } from 'kysely';
import { block, membership } from './keys.js';
import type { RoomsDatabase } from './schema.js';

type Db = Kysely<RoomsDatabase> | Transaction<RoomsDatabase>;

/** Records a block, or keeps the first one; returns when it was made. */
export async function insertBlock(db: Db, blockerId: string, blockedId: string): Promise<Date> {
  await db
    .insertInto('rooms.blocks')
    .values(block(blockerId, blockedId))
    .onConflict((oc) => oc.columns(['blocker_id', 'blocked_id']).doNothing())
    .execute();
  const row = await db
    .selectFrom('rooms.blocks')
    .select('created_at')
    .where((eb) => eb.and(block(blockerId, blockedId)))
    .executeTakeFirstOrThrow();
  return row.created_at;
}

export async function deleteBlock(db: Db, blockerId: string, blockedId: string): Promise<void> {
  await db
    .deleteFrom('rooms.blocks')
    .where((eb) => eb.and(block(blockerId, blockedId)))
    .execute();
}

export async function listBlocks(db: Db, blockerId: string): Promise<Array<{ user_id: string; blocked_at: Date }>> {
  return db
    .selectFrom('rooms.blocks')
    .select(['blocked_id as user_id', 'created_at as blocked_at'])
    .where('blocker_id', '=', blockerId)
    .orderBy('created_at', 'desc')
    .orderBy('blocked_id')
    .execute();
}

export async function isBlockedBy(db: Db, blockerId: string, blockedId: string): Promise<boolean> {
  const row = await db
    .selectFrom('rooms.blocks')
    .select('blocker_id')
    .where((eb) => eb.and(block(blockerId, blockedId)))
    .executeTakeFirst();
  return row !== undefined;
}

/** Records a ban, or keeps the first one. */
export async function insertBan(db: Db, roomId: string, userId: string, bannedBy: string) {
  await db
    .insertInto('rooms.bans')
    .values({ ...membership(roomId, userId), banned_by: bannedBy })
    .onConflict((oc) => oc.columns(['room_id', 'user_id']).doNothing())
    .execute();
  return db
    .selectFrom('rooms.bans')
    .select(['user_id', 'banned_by', 'created_at'])
    .where((eb) => eb.and(membership(roomId, userId)))
    .executeTakeFirstOrThrow();
}

export async function deleteBan(db: Db, roomId: string, userId: string): Promise<void> {
  await db
    .deleteFrom('rooms.bans')
    .where((eb) => eb.and(membership(roomId, userId)))
    .execute();
}

export async function listBans(db: Db, roomId: string) {
  return db
    .selectFrom('rooms.bans')
    .select(['user_id', 'banned_by', 'created_at'])
    .where('room_id', '=', roomId)
    .orderBy('created_at', 'desc')
    .orderBy('user_id')
    .execute();
}

/** Which of these users are banned from the room. */
export async function bannedAmong(db: Db, roomId: string, userIds: string[]): Promise<string[]> {
  if (userIds.length === 0) return [];
  const rows = await db.selectFrom('rooms.bans').select('user_id').where('room_id', '=', roomId).where('user_id', 'in', userIds).execute();
  return rows.map((r) => r.user_id);
}

/** Whether the other member of a direct room has blocked this user (their sends are refused). */
export const blockedInDirectRoom = (userId: string) => sql<boolean>`exists(
  select 1 from rooms.blocks b join rooms.members o on o.room_id = r.id and o.user_id = b.blocker_id
   where r.kind = 'direct' and b.blocked_id = ${userId} and b.blocker_id <> ${userId})`;
