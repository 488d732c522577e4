import { type RawBuilder, sql } from 'kysely';
import type { TimeIdCursor } from '../contracts/cursor.js';

/**
 * A timestamp column as whole microseconds since the epoch: the time half of a TimeIdCursor.
 * Milliseconds would tie rows written in one burst; the id breaks what ties remain.
 */
export function epochMicros(column: string): RawBuilder<number> {
  return sql<number>`(extract(epoch from ${sql.ref(column)}) * 1000000)::bigint`;
}

/**
 * The keyset condition of a TimeIdCursor page: rows strictly after the cursor in the order
 * `(time, id)` ascending, or strictly before it when the page runs newest first.
 */
export function pastTimeIdCursor(
  timeColumn: string,
  idColumn: string,
  cursor: TimeIdCursor,
  order: 'oldest_first' | 'newest_first',
): RawBuilder<boolean> {
  const beyond = order === 'oldest_first' ? sql`>` : sql`<`;
  return sql<boolean>`(${epochMicros(timeColumn)}, ${sql.ref(idColumn)}) ${beyond} (${cursor.micros}::bigint, ${cursor.id}::uuid)`;
}
