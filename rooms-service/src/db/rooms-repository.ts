import type { Role, RoomKind, TimeIdCursor } from '@chat/shared';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { RoomsDatabase } from './schema.js';

export interface RoomViewRow {
  id: string;
  kind: RoomKind;
  title: string | null;
  direct_title: string | null;
  context_type: string | null;
  context_id: string | null;
  created_by: string;
  created_at: Date;
  last_seq: number;
  last_message: string | null;
  activity_micros: number;
  member_count: number;
  role: Role;
  last_read_seq: number;
  unread_count: number;
  muted_until: Date | null;
  notify: 'all' | 'mentions' | 'none';
  archived: boolean;
}

type Db = Kysely<RoomsDatabase> | Transaction<RoomsDatabase>;

/**
 * Rooms as one member sees them. Unread = messages from others, not deleted, with a seq above
 * the member's read cursor (README, "Unread counts").
 */
const roomView = sql`
  select r.id, r.kind, r.title, r.context_type, r.context_id, r.created_by, r.created_at, r.last_seq,
    r.last_message, (extract(epoch from r.last_activity_at) * 1000000)::bigint as activity_micros,
    m.role, m.last_read_seq, m.muted_until, m.notify, m.archived,
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
  const after = options.after
    ? sql`and ((extract(epoch from r.last_activity_at) * 1000000)::bigint, r.id) < (${options.after.micros}::bigint, ${options.after.id}::uuid)`
    : sql``;
  const result = await sql<RoomViewRow>`${roomView}
    where m.user_id = ${userId} and m.archived = ${options.archived} ${after}
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

export async function insertGroupRoom(db: Kysely<RoomsDatabase>, owner: string, title: string, memberIds: string[]): Promise<string> {
  return db.transaction().execute(async (trx) => {
    const room = await trx
      .insertInto('rooms.rooms')
      .values({ kind: 'group', title, created_by: owner })
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

export async function findAccessFacts(db: Db, roomId: string, userId: string): Promise<{ kind: RoomKind | null; role: Role | null }> {
  const row = await db
    .selectFrom('rooms.rooms as r')
    .leftJoin('rooms.members as m', (join) => join.onRef('m.room_id', '=', 'r.id').on('m.user_id', '=', userId))
    .select(['r.kind', 'm.role'])
    .where('r.id', '=', roomId)
    .executeTakeFirst();
  return { kind: row?.kind ?? null, role: row?.role ?? null };
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

export type PublicRoomRow = Omit<
  RoomViewRow,
  'role' | 'last_read_seq' | 'unread_count' | 'muted_until' | 'notify' | 'archived' | 'direct_title' | 'activity_micros'
>;

/** The room as every member sees it (no `me`), for `room.updated` events. */
export async function findPublicRoom(db: Db, roomId: string): Promise<PublicRoomRow | undefined> {
  const result = await sql<PublicRoomRow>`
    select r.id, r.kind, r.title, r.context_type, r.context_id, r.created_by, r.created_at, r.last_seq, r.last_message,
      (select count(*) from rooms.members mm where mm.room_id = r.id)::int as member_count
    from rooms.rooms r where r.id = ${roomId}`.execute(db);
  return result.rows[0];
}
