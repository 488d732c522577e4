import { type Kysely, sql, type Transaction } from 'kysely';
import type { MessagesDatabase } from './schema.js';

/**
 * Writes the search documents of these messages from their rows as they are now, in one
 * statement: the text of a message as last sent or edited, empty once deleted. `version` (the
 * row's last change) keeps a read that is older than the document already stored from replacing
 * it, so the indexer's batches may run in any order, twice, or on several replicas at once, and
 * beside an edit or delete that wrote the document itself. Ids of messages that do not exist
 * (yet) change nothing. Returns the documents written.
 */
export async function indexMessages(db: Kysely<MessagesDatabase> | Transaction<MessagesDatabase>, messageIds: string[]): Promise<number> {
  if (messageIds.length === 0) return 0;
  const result = await sql`
    insert into messages.search_docs as d (message_id, room_id, created_at, version, body)
    select id, room_id, created_at, coalesce(deleted_at, edited_at, created_at), body
      from messages.messages where id = any(${messageIds}::uuid[])
    on conflict (message_id) do update set body = excluded.body, version = excluded.version
     where d.version < excluded.version`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}
