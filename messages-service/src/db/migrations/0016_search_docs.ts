import { type Kysely, sql } from 'kysely';

/**
 * Search indexing leaves the send transaction. The generated tsvector column and the two GIN
 * indexes on `messages.messages` cost about a third of the send statement's Postgres CPU, and
 * their pending-list merges landed in whichever send happened to overflow the list. Searchable
 * text now lives in `messages.search_docs`, one row per message, written in batches by the search
 * indexer (a durable consumer of the room event stream) from the message row as it is then.
 * `version` is the row's last change (created, edited or deleted), so an indexer holding an older
 * read of a message never overwrites a newer one; a deleted message keeps an empty document.
 * During a rolling update, replicas of the previous release answer searches with an error until
 * they are replaced (their query reads the dropped column); sends are unaffected.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table messages.search_docs (
      message_id uuid primary key,
      room_id uuid not null,
      created_at timestamptz not null,
      version timestamptz not null,
      body text not null,
      search tsvector generated always as (to_tsvector('simple', body)) stored
    )`.execute(db);
  await sql`
    insert into messages.search_docs (message_id, room_id, created_at, version, body)
    select id, room_id, created_at, coalesce(deleted_at, edited_at, created_at), body from messages.messages`.execute(db);
  // Small pending lists, as migration 0007 gave the indexes they replace.
  await sql`create index search_docs_search on messages.search_docs using gin (search) with (gin_pending_list_limit = 256)`.execute(db);
  await sql`
    create index search_docs_body_trgm on messages.search_docs
    using gin (lower(body) public.gin_trgm_ops) with (gin_pending_list_limit = 256)`.execute(db);
  await sql`drop index messages.messages_body_trgm`.execute(db);
  await sql`drop index messages.messages_search`.execute(db);
  await sql`alter table messages.messages drop column search`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table messages.messages add column search tsvector generated always as (to_tsvector('simple', body)) stored`.execute(db);
  await sql`create index messages_search on messages.messages using gin (search) with (gin_pending_list_limit = 256)`.execute(db);
  await sql`
    create index messages_body_trgm on messages.messages
    using gin (lower(body) public.gin_trgm_ops) with (gin_pending_list_limit = 256)`.execute(db);
  await sql`drop table messages.search_docs`.execute(db);
}
