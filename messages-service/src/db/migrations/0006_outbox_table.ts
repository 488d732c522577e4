import { type Kysely, sql } from 'kysely';

/**
 * The relay's to-do list moves out of the event log into its own small table. Marking
 * `room_events.published_at` left a dead row version per event, and the relay's partial-index
 * scan walked all of them until autovacuum came (its read grew with the load). A row here is
 * inserted with its event and deleted once JetStream has it; the log itself is now append-only.
 * `published_at` stays (unused), so a replica of the previous release still running during a
 * rolling update does not fail; what it publishes again is dropped by JetStream and by seq.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table messages.outbox (
      event_id bigint primary key references messages.room_events (id),
      room_id uuid not null,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index outbox_by_room on messages.outbox (room_id)`.execute(db);
  await sql`
    insert into messages.outbox (event_id, room_id, created_at)
    select id, room_id, created_at from messages.room_events where published_at is null`.execute(db);
  await sql`drop index messages.room_events_unpublished`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`create index room_events_unpublished on messages.room_events (id) where published_at is null`.execute(db);
  await sql`
    update messages.room_events e set published_at = now()
    where published_at is null and not exists (select 1 from messages.outbox o where o.event_id = e.id)`.execute(db);
  await sql`drop table messages.outbox`.execute(db);
}
