import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table messages.reactions (
      message_id uuid not null references messages.messages (id) on delete cascade,
      user_id text not null,
      emoji text not null,
      created_at timestamptz not null default now(),
      primary key (message_id, user_id, emoji)
    )`.execute(db);
  await sql`create index reactions_by_message on messages.reactions (message_id, emoji)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table messages.reactions`.execute(db);
}
