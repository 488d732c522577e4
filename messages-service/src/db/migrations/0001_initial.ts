import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table messages.room_sequences (
      room_id uuid primary key,
      last_seq bigint not null
    )`.execute(db);
  await sql`
    create table messages.messages (
      id uuid primary key,
      room_id uuid not null,
      seq bigint not null,
      sender_id text not null,
      sender_name text,
      client_msg_id text not null,
      kind text not null check (kind in ('text', 'image', 'file', 'system')),
      body text not null,
      mentions text[] not null default '{}',
      reply_to uuid,
      attachments jsonb not null default '[]',
      created_at timestamptz not null default now(),
      edited_at timestamptz,
      deleted_at timestamptz,
      constraint messages_room_seq unique (room_id, seq),
      constraint messages_idempotency unique (sender_id, client_msg_id)
    )`.execute(db);
  await sql`
    create table messages.room_events (
      id bigserial primary key,
      room_id uuid not null,
      seq bigint not null,
      type text not null,
      event text not null,
      created_at timestamptz not null default now(),
      published_at timestamptz,
      constraint room_events_room_seq unique (room_id, seq)
    )`.execute(db);
  await sql`create index room_events_unpublished on messages.room_events (id) where published_at is null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table messages.room_events, messages.messages, messages.room_sequences`.execute(db);
}
