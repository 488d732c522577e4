import { type Kysely, sql } from 'kysely';

/**
 * Smaller pending lists for the two search indexes. With the default 4 MB, the insert that
 * overflows the list merges it into the index itself: a send batch then took 30 ms and more,
 * and autovacuum's merge took a core for seconds after a burst. 256 kB costs the same on average
 * (measured: 0.28 ms of Postgres CPU per message either way) in small, frequent merges.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter index messages.messages_search set (gin_pending_list_limit = 256)`.execute(db);
  await sql`alter index messages.messages_body_trgm set (gin_pending_list_limit = 256)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter index messages.messages_search reset (gin_pending_list_limit)`.execute(db);
  await sql`alter index messages.messages_body_trgm reset (gin_pending_list_limit)`.execute(db);
}
