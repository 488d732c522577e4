import { type Kysely, sql } from 'kysely';

/** The upload quota sums a user's uploads of the last day. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index if not exists attachments_by_uploader on messages.attachments (uploader_id, created_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists messages.attachments_by_uploader`.execute(db);
}
