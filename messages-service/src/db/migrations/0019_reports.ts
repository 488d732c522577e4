import { type Kysely, sql } from 'kysely';

/**
 * Reports of messages (DESIGN 10.3). One report per reporter and message (the unique key makes a
 * repeat return the first). The message is kept as it was when reported, so a later edit or
 * delete cannot hide what the moderator is asked to judge. `event_recorded_at` is the report's own
 * outbox flag: null until its `message.reported` host event is in JetStream, so a report committed
 * just before a crash still reaches the host (messages-service re-records the unflagged ones).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table if not exists messages.reports (
      id uuid primary key,
      room_id uuid not null,
      message_id uuid not null,
      reporter_id text not null,
      reason text not null,
      note text,
      status text not null default 'open',
      message_snapshot jsonb not null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      updated_by text,
      event_recorded_at timestamptz,
      unique (message_id, reporter_id)
    )`.execute(db);
  await sql`create index if not exists reports_queue on messages.reports (status, created_at, id)`.execute(db);
  await sql`create index if not exists reports_unrecorded on messages.reports (created_at) where event_recorded_at is null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists messages.reports`.execute(db);
}
