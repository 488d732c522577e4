import type { HistoryVisibility, TimeIdCursor } from '@chat/shared';
import { epochMicros, pastTimeIdCursor } from '@chat/shared/db';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { AccessRow, PublicRoomRow, RoomViewRow } from '../domain/ports.js';
import { blockedInDirectRoom } from './moderation-repository.js';
import type { RoomsDatabase } from './schema.js';

type Db = Kysely<RoomsDatabase> | Transaction<RoomsDatabase>;

/**
 * Rooms as one member sees them. Unread = messages from others, not deleted, with a seq above
 * the member's read cursor (README, "Unread counts").
 */
const roomView = sql`
  select r.id, r.kind, r.title, r.context_type, r.context_id, r.created_by, r.created_at, r.last_seq,
    r.last_message, r.closed_at, r.history_visibility, ${epochMicros('r.last_activity_at')} as activity_micros,
    m.role, m.last_read_seq, m.muted_until, m.notify, m.archived,
    (case when r.history_visibility = 'joined' then m.joined_seq else 0 end)::bigint as visible_from_seq,
    (select count(*) from rooms.members mm where mm.room_id = r.id)::int as member_count,
    (select count(*) from rooms.counted_messages c
      where c.room_id = r.id and c.seq > m.last_read_seq and c.sender_id <> m.user_id and not c.deleted)::int
      as unread_count,
    case when r.kind = 'direct' then (
      select coalesce(u.name, o.user_id) from rooms.members o
        left join rooms.users u on u.user_id = o.user_id
        where o.room_id = r.id and o.user_id <> m.user_id limit 1)
    end as direct_title
  from rooms.members m join rooms.rooms r on r.id = m.room_id`;

export async function findRoomView(db: Db, roomId: string, userId: string): Promise<RoomViewRow | undefined> {
  const result = await sql<RoomViewRow>`${roomView} where m.room_id = ${roomId} and m.user_id = ${userId}`.execute(db);
  return result.rows[0];
}

export async function listRoomViews(
  db: Db,
  userId: string,
  options: { archived: boolean; limit: number; after?: TimeIdCursor | undefined },
): Promise<RoomViewRow[]> {
  const after = options.after ? sql`and ${pastTimeIdCursor('r.last_activity_at', 'r.id', options.after, 'newest_first')}` : sql``;
  // A closed room leaves the default list like an archived one (DESIGN 10.3).
  const listed = options.archived ? sql`(m.archived or r.closed_at is not null)` : sql`(not m.archived and r.closed_at is null)`;
  const result = await sql<RoomViewRow>`${roomView}
    where m.user_id = ${userId} and ${listed} ${after}
    order by r.last_activity_at desc, r.id desc
    limit ${options.limit}`.execute(db);
  return result.rows;
}

/** Inserts the direct room of a pair, or does nothing when it exists; returns the room id either way. */
export async function ensureDirectRoom(
  db: Kysely<RoomsDatabase>,
  key: string,
  creator: string,
  other: string,
): Promise<{ roomId: string; created: boolean }> {
  return db.transaction().execute(async (trx) => {
    const inserted = await trx
      .insertInto('rooms.rooms')
      .values({ kind: 'direct', direct_key: key, created_by: creator, title: null })
      .onConflict((oc) => oc.column('direct_key').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (inserted) {
      await trx
        .insertInto('rooms.members')
        .values([
          { room_id: inserted.id, user_id: creator, role: 'member' },
          { room_id: inserted.id, user_id: other, role: 'member' },
        ])
        .execute();
      return { roomId: inserted.id, created: true };
    }
    // The conflicting insert waited for the other transaction, so its row is visible now.
    const existing = await trx.selectFrom('rooms.rooms').select('id').where('direct_key', '=', key).executeTakeFirstOrThrow();
    return { roomId: existing.id, created: false };
  });
}

export async function insertGroupRoom(
  db: Kysely<RoomsDatabase>,
  owner: string,
  title: string,
  memberIds: string[],
  historyVisibility: HistoryVisibility = 'shared',
): Promise<string> {
  return db.transaction().execute(async (trx) => {
    const room = await trx
      .insertInto('rooms.rooms')
      .values({ kind: 'group', title, created_by: owner, history_visibility: historyVisibility })
      .returning('id')
      .executeTakeFirstOrThrow();
    await trx
      .insertInto('rooms.members')
      .values([
        { room_id: room.id, user_id: owner, role: 'owner' as const },
        ...memberIds.map((userId) => ({ room_id: room.id, user_id: userId, role: 'member' as const })),
      ])
      .execute();
    return room.id;
  });
}

export async function findAccessFacts(db: Db, roomId: string, userId: string): Promise<AccessRow> {
  const row = await db
    .selectFrom('rooms.rooms as r')
    .leftJoin('rooms.members as m', (join) => join.onRef('m.room_id', '=', 'r.id').on('m.user_id', '=', userId))
    .select(['r.kind', 'm.role', 'r.closed_at', 'r.history_visibility', 'm.joined_seq', blockedInDirectRoom(userId).as('blocked')])
    .where('r.id', '=', roomId)
    .executeTakeFirst();
  return {
    kind: row?.kind ?? null,
    role: row?.role ?? null,
    closed: row?.closed_at != null,
    visibleFromSeq: row?.history_visibility === 'joined' ? Number(row.joined_seq ?? 0) : 0,
    blocked: row?.blocked === true,
  };
}

/** The room of a host object, if it has one. */
export async function findContextRoomId(db: Db, context: { type: string; id: string }): Promise<string | undefined> {
  const row = await db
    .selectFrom('rooms.rooms')
    .select('id')
    .where('context_type', '=', context.type)
    .where('context_id', '=', context.id)
    .executeTakeFirst();
  return row?.id;
}

/** The room of a host object and whether it is closed, if it has one. */
export async function findContextRoomState(
  db: Db,
  context: { type: string; id: string },
): Promise<{ id: string; closed: boolean } | undefined> {
  const row = await db
    .selectFrom('rooms.rooms')
    .select(['id', 'closed_at'])
    .where('context_type', '=', context.type)
    .where('context_id', '=', context.id)
    .executeTakeFirst();
  return row && { id: row.id, closed: row.closed_at !== null };
}

/** Renames a room and/or sets its history visibility; true when anything changed. */
export async function updateRoomSettings(
  db: Db,
  roomId: string,
  changes: { title?: string | undefined; history_visibility?: HistoryVisibility | undefined },
): Promise<boolean> {
  const set: { title?: string; history_visibility?: HistoryVisibility } = {};
  if (changes.title !== undefined) set.title = changes.title;
  if (changes.history_visibility !== undefined) set.history_visibility = changes.history_visibility;
  if (Object.keys(set).length === 0) return false;
  const result = await db
    .updateTable('rooms.rooms')
    .set(set)
    .where('id', '=', roomId)
    .where((eb) =>
      eb.or([
        ...(set.title !== undefined ? [eb('title', 'is distinct from', set.title)] : []),
        ...(set.history_visibility !== undefined ? [eb('history_visibility', '<>', set.history_visibility)] : []),
      ]),
    )
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Closes or reopens a room; true when it changed (closing twice keeps the first closed_at). */
export async function setRoomClosed(db: Db, roomId: string, closed: boolean): Promise<boolean> {
  const result = await db
    .updateTable('rooms.rooms')
    .set({ closed_at: closed ? sql<Date>`now()` : null })
    .where('id', '=', roomId)
    .where('closed_at', closed ? 'is' : 'is not', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Remembers the display name a user last presented; writes only when it changed. */
/** Records display names; a name that did not change writes nothing. */
export async function rememberUserNames(db: Db, users: Array<{ user_id: string; name: string | null }>): Promise<void> {
  // The last name given for a user in one call wins (a repeated key would fail the upsert).
  const latest = [...new Map(users.map((u) => [u.user_id, u.name])).entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  await sql`
    insert into rooms.users (user_id, name)
    select * from unnest(${latest.map(([id]) => id)}::text[], ${latest.map(([, name]) => name)}::text[])
    on conflict (user_id) do update set name = excluded.name, updated_at = now()
    where rooms.users.name is distinct from excluded.name`.execute(db);
}

/** The room as every member sees it (no `me`), for `room.updated` events. */
export async function findPublicRoom(db: Db, roomId: string): Promise<PublicRoomRow | undefined> {
  const result = await sql<PublicRoomRow>`
    select r.id, r.kind, r.title, r.context_type, r.context_id, r.created_by, r.created_at, r.last_seq, r.last_message, r.closed_at,
      r.history_visibility, (select count(*) from rooms.members mm where mm.room_id = r.id)::int as member_count
    from rooms.rooms r where r.id = ${roomId}`.execute(db);
  return result.rows[0];
}

/** The direct room of a pair, by its key. */
export async function findDirectRoomId(db: Db, key: string): Promise<string | undefined> {
  const row = await db.selectFrom('rooms.rooms').select('id').where('direct_key', '=', key).executeTakeFirst();
  return row?.id;
}
