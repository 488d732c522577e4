import { type Kysely, sql } from 'kysely';

/**
 * Full-text search ('simple' configuration: no stemming, the product is multilingual) plus
 * trigram matching so partial words are found. Deleted messages have an empty body and are
 * excluded by the queries.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create extension if not exists pg_trgm with schema public`.execute(db);
  await sql`alter table messages.messages add column search tsvector generated always as (to_tsvector('simple', body)) stored`.execute(db);
  await sql`create index messages_search on messages.messages using gin (search)`.execute(db);
  await sql`create index messages_body_trgm on messages.messages using gin (lower(body) public.gin_trgm_ops)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index messages.messages_body_trgm`.execute(db);
  await sql`drop index messages.messages_search`.execute(db);
  await sql`alter table messages.messages drop column search`.execute(db);
}
