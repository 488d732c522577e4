/** Members read for one page of push facts. */
export const PUSH_FACTS_ROWS = 1000;

/**
 * Cuts the rows read (by user id) to what one answer carries. `next_after` is where the next page
 * starts: set when the page was cut, or when the read was full and more may follow. A single row
 * larger than the budget still goes alone, so paging always moves on.
 */
export function pushFactsPage<Row extends { user_id: string }>(
  rows: readonly Row[],
  rowsRead: number,
  maxChars: number,
): { members: Row[]; next_after: string | null } {
  let chars = 0;
  for (const [i, row] of rows.entries()) {
    chars += JSON.stringify(row).length + 1;
    if (chars > maxChars && i > 0) return { members: rows.slice(0, i), next_after: (rows[i - 1] as Row).user_id };
  }
  const full = rows.length > 0 && rows.length >= rowsRead;
  return { members: [...rows], next_after: full ? (rows[rows.length - 1] as Row).user_id : null };
}
