import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table rooms.rooms (
      id uuid primary key default gen_random_uuid(),
      kind text not null check (kind in ('direct', 'group', 'context')),
      title text,
      direct_key text unique,
      context_type text,
      context_id text,
      created_by text not null,
      created_at timestamptz not null default now(),
      last_seq bigint not null default 0,
      last_message_seq bigint not null default 0,
      last_message text,
      last_activity_at timestamptz not null default now(),
      constraint context_unique unique (context_type, context_id),
      constraint direct_has_key check ((kind = 'direct') = (direct_key is not null)),
      constraint context_has_ref check ((kind = 'context') = (context_type is not null and context_id is not null))
    )`.execute(db);
  await sql`
    create table rooms.members (
      room_id uuid not null references rooms.rooms (id) on delete cascade,
      user_id text not null,
      role text not null check (role in ('owner', 'admin', 'member')),
      joined_at timestamptz not null default now(),
      last_read_seq bigint not null default 0,
      muted_until timestamptz,
      notify text not null default 'all' check (notify in ('all', 'mentions', 'none')),
      archived boolean not null default false,
      primary key (room_id, user_id)
    )`.execute(db);
  await sql`create index members_by_user on rooms.members (user_id, room_id)`.execute(db);
  await sql`
    create table rooms.users (
      user_id text primary key,
      name text,
      updated_at timestamptz not null default now()
    )`.execute(db);
  await sql`
    create table rooms.counted_messages (
      room_id uuid not null,
      seq bigint not null,
      sender_id text not null,
      deleted boolean not null default false,
      primary key (room_id, seq)
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table rooms.counted_messages, rooms.users, rooms.members, rooms.rooms`.execute(db);
}
