import { type Kysely, sql } from 'kysely';

/**
 * Blobs nobody can reach any more (uploads never attached, attachments of deleted messages) are
 * deleted from the blob store by the gateways' sweep: `sweep_until` leases a row to one sweeper,
 * `blob_deleted_at` records that its bytes are gone (the row stays: the upload quota counts it).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table messages.attachments add column if not exists sweep_until timestamptz, add column if not exists blob_deleted_at timestamptz`.execute(
    db,
  );
  await sql`
    create index if not exists attachments_blobs_to_sweep on messages.attachments (created_at)
    where blob_deleted_at is null and (message_id is null or deleted_at is not null)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists messages.attachments_blobs_to_sweep`.execute(db);
  await sql`alter table messages.attachments drop column if exists sweep_until, drop column if exists blob_deleted_at`.execute(db);
}
