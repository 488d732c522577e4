import { type Kysely, sql } from 'kysely';

/**
 * Events are now published by the process that committed them, right after the commit; the
 * outbox row only stays behind if that process dies first. `relay_after` tells the relay when a
 * row is its own to publish: now for writes that leave publishing to it, a grace period later for
 * writes whose process publishes them itself. The foreign key to the event log goes: every row is
 * written in the statement that appends its event, and its check was one more index probe per
 * event on the hottest statement.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table messages.outbox add column relay_after timestamptz not null default now()`.execute(db);
  await sql`alter table messages.outbox drop constraint if exists outbox_event_id_fkey`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`delete from messages.outbox o where not exists (select 1 from messages.room_events e where e.id = o.event_id)`.execute(db);
  await sql`alter table messages.outbox add constraint outbox_event_id_fkey foreign key (event_id) references messages.room_events (id)`.execute(
    db,
  );
  await sql`alter table messages.outbox drop column relay_after`.execute(db);
}
