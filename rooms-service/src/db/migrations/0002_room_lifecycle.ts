import { type Kysely, sql } from 'kysely';

/**
 * Rooms that follow their host objects (closed_at), what late joiners may read
 * (history_visibility), and where each member's view of the room begins (joined_seq: the room's
 * last seq when they joined; members from before this migration count as joined at the start).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table rooms.rooms
      add column closed_at timestamptz,
      add column history_visibility text not null default 'shared' check (history_visibility in ('shared', 'joined'))`.execute(db);
  await sql`alter table rooms.members add column joined_seq bigint not null default 0`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table rooms.members drop column joined_seq`.execute(db);
  await sql`alter table rooms.rooms drop column closed_at, drop column history_visibility`.execute(db);
}
