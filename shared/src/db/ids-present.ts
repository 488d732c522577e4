import { type Kysely, type SelectType, sql, type Transaction } from 'kysely';

/** Columns of the table whose values read back as strings (ids, keys), so the answer is a set of strings. */
type StringColumnOf<DB, T extends keyof DB> = { [K in keyof DB[T]]: SelectType<DB[T][K]> extends string ? K : never }[keyof DB[T]] & string;

/**
 * Which of `ids` (values of column `id`) have a row in `table` where `where[0]` equals `where[1]`,
 * in one statement: the "which of these" lookup several services make (members among users,
 * acknowledgements among messages, deliveries among a batch). The values are bound untyped, so
 * Postgres reads them as the columns' own types and uses their index.
 */
export async function idsPresent<DB, T extends keyof DB & string>(
  db: Kysely<DB> | Transaction<DB>,
  table: T,
  id: StringColumnOf<DB, T>,
  ids: readonly string[],
  where: readonly [StringColumnOf<DB, T>, string],
): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const { rows } = await sql<{ id: string }>`
    select ${sql.ref(id)} as id from ${sql.table(table)}
     where ${sql.ref(where[0])} = ${where[1]} and ${sql.ref(id)} in (${sql.join(ids)})`.execute(db);
  return new Set(rows.map((row) => row.id));
}
