import { type Kysely, sql } from 'kysely';

/**
 * Thumbnails of image attachments (DESIGN 10.5), made by the gateway at upload and stored beside
 * the image under `<storage_key>.thumb`. Null for files without one (not images, or uploaded before).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table messages.attachments
    add column if not exists thumbnail_content_type text,
    add column if not exists thumbnail_size integer,
    add column if not exists thumbnail_width integer,
    add column if not exists thumbnail_height integer`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table messages.attachments
    drop column if exists thumbnail_content_type,
    drop column if exists thumbnail_size,
    drop column if exists thumbnail_width,
    drop column if exists thumbnail_height`.execute(db);
}
