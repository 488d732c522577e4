import { type Kysely, sql } from 'kysely';

/** The trace of the request that wrote an event, so the relay's publish continues that trace. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table messages.room_events add column trace_context text`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table messages.room_events drop column trace_context`.execute(db);
}
