import { type Kysely, sql } from 'kysely';

/** Attachment metadata; the bytes live in the blob store under `storage_key`. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table messages.attachments (
      id uuid primary key,
      room_id uuid not null,
      uploader_id text not null,
      message_id uuid references messages.messages (id),
      name text not null,
      content_type text not null,
      size bigint not null,
      width int,
      height int,
      storage_key text not null,
      created_at timestamptz not null default now(),
      deleted_at timestamptz
    )`.execute(db);
  await sql`create index attachments_by_message on messages.attachments (message_id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table messages.attachments`.execute(db);
}
