import { type Kysely, sql } from 'kysely';

/**
 * Re-notification of messages that asked for acknowledgement (DESIGN 10.2), in the push ledger so
 * it survives any worker's death: one row per message, written before its event is acknowledged;
 * `next_at` is when the next round is due (a worker taking a round moves it one lease ahead, so a
 * round whose worker died is taken again); `rounds_done` counts re-notifications made.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table if not exists notify.renotify (
      message_id text primary key,
      room_id text not null,
      seq bigint not null,
      rounds_done integer not null default 0,
      next_at timestamptz not null,
      finished_at timestamptz,
      traceparent text,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index if not exists renotify_due on notify.renotify (next_at) where finished_at is null`.execute(db);
  await sql`create index if not exists renotify_finished on notify.renotify (finished_at) where finished_at is not null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists notify.renotify`.execute(db);
}
