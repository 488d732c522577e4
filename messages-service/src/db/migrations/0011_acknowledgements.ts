import { type Kysely, sql } from 'kysely';

/**
 * Urgent messages and acknowledgement requests (DESIGN 10.2). The new columns have constant
 * defaults, so adding them rewrites nothing. `ack_count` keeps the count on the message row, so
 * showing a message costs no extra query. The member set at send time is kept only for messages
 * that asked for acknowledgements, in a table of its own that no history or search read touches.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table messages.messages
      add column if not exists priority text not null default 'normal',
      add column if not exists ack_requested boolean not null default false,
      add column if not exists ack_count integer not null default 0`.execute(db);
  await sql`
    create table if not exists messages.acknowledgement_requests (
      message_id uuid primary key,
      room_id uuid not null,
      recipients text[] not null
    )`.execute(db);
  await sql`
    create table if not exists messages.acknowledgements (
      message_id uuid not null,
      user_id text not null,
      name text,
      acknowledged_at timestamptz not null default now(),
      primary key (message_id, user_id)
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists messages.acknowledgements`.execute(db);
  await sql`drop table if exists messages.acknowledgement_requests`.execute(db);
  await sql`alter table messages.messages drop column if exists ack_count, drop column if exists ack_requested, drop column if exists priority`.execute(
    db,
  );
}
