import { type Kysely, sql } from 'kysely';
import type { UnreachableBlob, UnreachableBlobsPort } from '../domain/attachment-blobs.js';
import type { MessagesDatabase } from './schema.js';

/**
 * Leases up to `limit` attachments whose bytes nobody can reach any more: uploads never attached
 * within `unusedAfterMs`, and attachments of deleted messages. An unattached upload is marked
 * deleted in the same statement, so a send racing the sweep fails cleanly instead of attaching
 * bytes about to vanish (the send's claim requires `deleted_at is null`, and the row lock orders
 * the two). A lease that ends without `markBlobsDeleted` (a gateway died mid-sweep) is taken again.
 */
export async function leaseUnreachableBlobs(
  db: Kysely<MessagesDatabase>,
  options: { limit: number; leaseMs: number; unusedAfterMs: number },
): Promise<UnreachableBlob[]> {
  const result = await sql<UnreachableBlob>`
    with due as (
      select id from messages.attachments
      where blob_deleted_at is null
        and (message_id is null or deleted_at is not null)
        and (deleted_at is not null or created_at < now() - make_interval(secs => ${options.unusedAfterMs / 1000}))
        and (sweep_until is null or sweep_until < now())
      order by created_at
      limit ${options.limit}
      for update skip locked
    )
    update messages.attachments a
    set sweep_until = now() + make_interval(secs => ${options.leaseMs / 1000}),
        deleted_at = coalesce(a.deleted_at, now())
    from due where a.id = due.id
    returning a.id, a.storage_key`.execute(db);
  return result.rows;
}

/** Records that the blobs' bytes are gone; they are never leased again. */
export async function markBlobsDeleted(db: Kysely<MessagesDatabase>, ids: string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const result = await db
    .updateTable('messages.attachments')
    .set({ blob_deleted_at: sql<Date>`now()`, sweep_until: null })
    .where('id', 'in', ids)
    .where('blob_deleted_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export function unreachableBlobsRepository(db: Kysely<MessagesDatabase>): UnreachableBlobsPort {
  return { lease: (options) => leaseUnreachableBlobs(db, options), markDeleted: (ids) => markBlobsDeleted(db, ids) };
}
