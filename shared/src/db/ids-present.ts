import { type Kysely, sql, type Transaction } from 'kysely';

type ColumnOf<DB, T extends keyof DB> = keyof DB[T] & string;

/**
 * Which of `ids` (values of column `id`) have a row in `table` where `where[0]` equals `where[1]`,
 * in one statement: the "which of these" lookup several services make (members among users,
 * acknowledgements among messages, deliveries among a batch). The values are bound untyped, so
 * Postgres reads them as the columns' own types and uses their index.
 */
export async function idsPresent<DB, T extends keyof DB & string>(
  db: Kysely<DB> | Transaction<DB>,
  table: T,
  id: ColumnOf<DB, T>,
  ids: readonly string[],
  where: readonly [ColumnOf<DB, T>, string],
): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const { rows } = await sql<{ id: string }>`
    select ${sql.ref(id)} as id from ${sql.table(table)}
     where ${sql.ref(where[0])} = ${where[1]} and ${sql.ref(id)} in (${sql.join(ids)})`.execute(db);
  return new Set(rows.map((row) => row.id));
}
