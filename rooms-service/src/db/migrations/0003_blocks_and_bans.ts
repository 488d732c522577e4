import { type Kysely, sql } from 'kysely';

/** Per-user blocks, and bans that keep a user out of a group until lifted (DESIGN 10.3). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table rooms.blocks (
      blocker_id text not null,
      blocked_id text not null,
      created_at timestamptz not null default now(),
      primary key (blocker_id, blocked_id)
    )`.execute(db);
  // Who blocked this user: direct sends and pushes are decided by it.
  await sql`create index blocks_by_blocked on rooms.blocks (blocked_id, blocker_id)`.execute(db);
  await sql`
    create table rooms.bans (
      room_id uuid not null references rooms.rooms (id) on delete cascade,
      user_id text not null,
      banned_by text not null,
      created_at timestamptz not null default now(),
      primary key (room_id, user_id)
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table rooms.bans, rooms.blocks`.execute(db);
}
