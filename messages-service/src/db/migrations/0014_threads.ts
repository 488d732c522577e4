import { type Kysely, sql } from 'kysely';

/**
 * Threads (DESIGN 10.5): a reply names its root. Summaries are computed on read from the replies
 * (an index per thread), so the send path writes nothing to the root and takes no lock on it.
 * `top_level=true` history reads the room's messages that are not replies in seq order.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // Nullable without a default: no table rewrite, existing messages are all top-level.
  await sql`alter table messages.messages add column if not exists thread_root_id uuid`.execute(db);
  await sql`create index if not exists messages_by_thread on messages.messages (thread_root_id, seq) where thread_root_id is not null`.execute(
    db,
  );
  await sql`create index if not exists messages_top_level on messages.messages (room_id, seq) where thread_root_id is null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists messages.messages_top_level`.execute(db);
  await sql`drop index if exists messages.messages_by_thread`.execute(db);
  await sql`alter table messages.messages drop column if exists thread_root_id`.execute(db);
}
