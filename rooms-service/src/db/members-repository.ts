import type { HistoryVisibility, Member, Role } from '@chat/shared';
import { idsPresent } from '@chat/shared/db';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { PushSettingsPage } from '../domain/ports.js';
import { membership } from './keys.js';
import { findContextRoomId } from './rooms-repository.js';
import type { RoomsDatabase } from './schema.js';

type Db = Kysely<RoomsDatabase> | Transaction<RoomsDatabase>;

/** Locks the room row: membership changes of one room happen one at a time. */
export async function lockRoom(trx: Db, roomId: string) {
  return trx.selectFrom('rooms.rooms').select(['id', 'kind', 'last_seq']).where('id', '=', roomId).forUpdate().executeTakeFirst();
}

export async function findMemberRole(db: Db, roomId: string, userId: string): Promise<Role | null> {
  const row = await db
    .selectFrom('rooms.members')
    .select('role')
    .where((eb) => eb.and(membership(roomId, userId)))
    .executeTakeFirst();
  return row?.role ?? null;
}

export function existingMemberIds(db: Db, roomId: string, userIds: string[]): Promise<Set<string>> {
  return idsPresent(db, 'rooms.members', 'user_id', userIds, ['room_id', roomId]);
}

export async function countMembers(db: Db, roomId: string): Promise<number> {
  const row = await db
    .selectFrom('rooms.members')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('room_id', '=', roomId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * New members start with everything before their arrival read, so history is not "unread", and
 * remember where they joined (joined history shows them only what follows).
 */
export async function insertMembers(trx: Db, roomId: string, userIds: string[], joinedSeq: number): Promise<void> {
  if (userIds.length === 0) return;
  await trx
    .insertInto('rooms.members')
    .values(
      userIds.map((userId) => ({
        room_id: roomId,
        user_id: userId,
        role: 'member' as const,
        last_read_seq: joinedSeq,
        joined_seq: joinedSeq,
      })),
    )
    .onConflict((oc) => oc.columns(['room_id', 'user_id']).doNothing())
    .execute();
}

export async function deleteMembers(trx: Db, roomId: string, userIds: string[]): Promise<void> {
  if (userIds.length === 0) return;
  await trx.deleteFrom('rooms.members').where('room_id', '=', roomId).where('user_id', 'in', userIds).execute();
}

export async function setMemberRole(trx: Db, roomId: string, userId: string, role: Role): Promise<void> {
  await trx
    .updateTable('rooms.members')
    .set({ role })
    .where((eb) => eb.and(membership(roomId, userId)))
    .execute();
}

/** When no owner is left, the longest-standing admin (else member) becomes owner. */
export async function promoteSuccessorIfOwnerless(trx: Db, roomId: string): Promise<string | undefined> {
  const owner = await trx
    .selectFrom('rooms.members')
    .select('user_id')
    .where('room_id', '=', roomId)
    .where('role', '=', 'owner')
    .executeTakeFirst();
  if (owner) return undefined;
  const successor = await trx
    .selectFrom('rooms.members')
    .select('user_id')
    .where('room_id', '=', roomId)
    .orderBy(sql`case role when 'admin' then 0 else 1 end`)
    .orderBy('joined_at')
    .orderBy('user_id')
    .executeTakeFirst();
  if (!successor) return undefined;
  await setMemberRole(trx, roomId, successor.user_id, 'owner');
  return successor.user_id;
}

export async function updateMemberSettings(
  db: Db,
  roomId: string,
  userId: string,
  settings: { muted_until?: string | null | undefined; notify?: 'all' | 'mentions' | 'none' | undefined; archived?: boolean | undefined },
): Promise<void> {
  const changes: Record<string, unknown> = {};
  if (settings.muted_until !== undefined) changes.muted_until = settings.muted_until;
  if (settings.notify !== undefined) changes.notify = settings.notify;
  if (settings.archived !== undefined) changes.archived = settings.archived;
  await db
    .updateTable('rooms.members')
    .set(changes)
    .where((eb) => eb.and(membership(roomId, userId)))
    .execute();
}

/** Members in join order; the cursor is the position in that order. */
export async function listMembers(db: Db, roomId: string, offset: number, limit: number): Promise<Member[]> {
  const rows = await db
    .selectFrom('rooms.members as m')
    .leftJoin('rooms.users as u', 'u.user_id', 'm.user_id')
    .select(['m.user_id', 'u.name', 'm.role', 'm.last_read_seq', 'm.joined_at'])
    .where('m.room_id', '=', roomId)
    .orderBy('m.joined_at')
    .orderBy(sql`case m.role when 'owner' then 0 when 'admin' then 1 else 2 end`)
    .orderBy('m.user_id')
    .offset(offset)
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    user_id: r.user_id,
    name: r.name ?? null,
    role: r.role,
    last_read_seq: r.last_read_seq,
    joined_at: r.joined_at.toISOString(),
  }));
}

export async function ensureContextRoomRow(
  db: Kysely<RoomsDatabase>,
  context: { type: string; id: string },
  title: string | null,
  creator: string,
  historyVisibility: HistoryVisibility | undefined,
): Promise<{ roomId: string; created: boolean }> {
  const inserted = await db
    .insertInto('rooms.rooms')
    .values({
      kind: 'context',
      context_type: context.type,
      context_id: context.id,
      title,
      created_by: creator,
      history_visibility: historyVisibility ?? 'shared',
    })
    .onConflict((oc) => oc.columns(['context_type', 'context_id']).doNothing())
    .returning('id')
    .executeTakeFirst();
  if (inserted) return { roomId: inserted.id, created: true };
  // The insert found the object's room already there; rooms are never deleted, so it is still there.
  const existing = await findContextRoomId(db, context);
  if (existing === undefined) throw new Error(`the room of ${context.type}/${context.id} vanished between insert and read`);
  return { roomId: existing, created: false };
}

/** Moves the read cursor forward only; returns where it stands afterwards and whether it moved. */
export async function advanceReadCursor(
  db: Db,
  roomId: string,
  userId: string,
  seq: number,
): Promise<{ lastReadSeq: number; moved: boolean } | undefined> {
  const moved = await db
    .updateTable('rooms.members')
    .set({ last_read_seq: seq })
    .where((eb) => eb.and(membership(roomId, userId)))
    .where('last_read_seq', '<', seq)
    .returning('last_read_seq')
    .executeTakeFirst();
  if (moved) return { lastReadSeq: moved.last_read_seq, moved: true };
  const current = await db
    .selectFrom('rooms.members')
    .select('last_read_seq')
    .where((eb) => eb.and(membership(roomId, userId)))
    .executeTakeFirst();
  return current ? { lastReadSeq: current.last_read_seq, moved: false } : undefined;
}

/** Unread = messages from others, not deleted, above the cursor (README, "Unread counts"). */
export async function countUnread(db: Db, roomId: string, userId: string, afterSeq: number): Promise<number> {
  const row = await db
    .selectFrom('rooms.counted_messages')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('room_id', '=', roomId)
    .where('seq', '>', afterSeq)
    .where('sender_id', '<>', userId)
    .where('deleted', '=', false)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function unreadByRoom(db: Db, userId: string): Promise<Array<{ room_id: string; unread_count: number }>> {
  const result = await sql<{ room_id: string; unread_count: number }>`
    select m.room_id, count(c.seq)::int as unread_count
      from rooms.members m
      join rooms.counted_messages c
        on c.room_id = m.room_id and c.seq > m.last_read_seq and c.sender_id <> m.user_id and not c.deleted
     where m.user_id = ${userId}
     group by m.room_id
     order by m.room_id`.execute(db);
  return result.rows;
}

export async function readersAtOrAfter(db: Db, roomId: string, seq: number, senderId: string) {
  return db
    .selectFrom('rooms.members as m')
    .leftJoin('rooms.users as u', 'u.user_id', 'm.user_id')
    .select(['m.user_id', 'u.name', 'm.last_read_seq'])
    .where('m.room_id', '=', roomId)
    .where('m.last_read_seq', '>=', seq)
    .where('m.user_id', '<>', senderId)
    .orderBy('m.user_id')
    .execute();
}

/**
 * The rooms each user is in (rooms over `maxMembers` members left out), in one query for all of
 * them, with where their view starts in rooms of joined history (0 elsewhere).
 */
export async function roomIdsOfUsers(
  db: Db,
  userIds: string[],
  maxMembers?: number,
): Promise<Map<string, Array<{ room_id: string; visible_from_seq: number }>>> {
  const result = await sql<{ user_id: string; room_id: string; visible_from_seq: number }>`
    select m.user_id, m.room_id,
           (case when r.history_visibility = 'joined' then m.joined_seq else 0 end)::bigint as visible_from_seq
      from rooms.members m join rooms.rooms r on r.id = m.room_id
     where m.user_id = any(${userIds}::text[])
       and (${maxMembers ?? null}::int is null
            or (select count(*) from rooms.members o where o.room_id = m.room_id) <= ${maxMembers ?? null}::int)`.execute(db);
  const rooms = new Map<string, Array<{ room_id: string; visible_from_seq: number }>>(userIds.map((id) => [id, []]));
  for (const row of result.rows) rooms.get(row.user_id)?.push({ room_id: row.room_id, visible_from_seq: row.visible_from_seq });
  return rooms;
}

/** Every member id of a room. */
export async function allMemberIds(db: Db, roomId: string): Promise<string[]> {
  const rows = await db.selectFrom('rooms.members').select('user_id').where('room_id', '=', roomId).execute();
  return rows.map((r) => r.user_id);
}

/** Member ids of a room, or null when it has more than `maxMembers` (one row more tells). */
export async function memberIdsUpTo(db: Db, roomId: string, maxMembers: number): Promise<string[] | null> {
  const rows = await db
    .selectFrom('rooms.members')
    .select('user_id')
    .where('room_id', '=', roomId)
    .limit(maxMembers + 1)
    .execute();
  return rows.length > maxMembers ? null : rows.map((r) => r.user_id);
}

/** Membership settings of some (or all) members, with display names, for push decisions. */
export async function pushSettings(db: Db, roomId: string, userIds: string[] | undefined, page: PushSettingsPage | undefined) {
  let query = db
    .selectFrom('rooms.members as m')
    .leftJoin('rooms.users as u', 'u.user_id', 'm.user_id')
    .innerJoin('rooms.rooms as r', 'r.id', 'm.room_id')
    .select(['m.user_id', 'u.name', 'm.muted_until', 'm.notify', 'm.last_read_seq', 'm.joined_seq', 'r.history_visibility'])
    .select(
      sql<string[]>`array(select b.blocked_id from rooms.blocks b
        join rooms.members o on o.room_id = m.room_id and o.user_id = b.blocked_id
        where b.blocker_id = m.user_id)`.as('blocked_ids'),
    )
    .where('m.room_id', '=', roomId)
    .orderBy('m.user_id');
  if (userIds) {
    if (userIds.length === 0) return [];
    query = query.where('m.user_id', 'in', userIds);
  }
  if (page) query = query.limit(page.limit);
  if (page?.after !== undefined) query = query.where('m.user_id', '>', page.after);
  const rows = await query.execute();
  return rows.map((r) => ({
    user_id: r.user_id,
    name: r.name ?? null,
    muted_until: r.muted_until ? new Date(r.muted_until).toISOString() : null,
    notify: r.notify,
    last_read_seq: r.last_read_seq,
    visible_from_seq: r.history_visibility === 'joined' ? Number(r.joined_seq) : 0,
    ...(r.blocked_ids.length ? { blocked_ids: r.blocked_ids } : {}),
  }));
}

export async function findHistoryVisibility(db: Db, roomId: string): Promise<HistoryVisibility | undefined> {
  const row = await db.selectFrom('rooms.rooms').select('history_visibility').where('id', '=', roomId).executeTakeFirst();
  return row?.history_visibility;
}
