/**
 * Opaque list cursor for "newest first" lists: a time in microseconds (Postgres' precision) and
 * the id of the last item of a page, so items with equal times are neither skipped nor repeated.
 */
export interface TimeIdCursor {
  micros: number;
  id: string;
}

export function encodeTimeIdCursor(cursor: TimeIdCursor): string {
  return Buffer.from(`${cursor.micros}_${cursor.id}`).toString('base64url');
}

/** Null for anything this API did not hand out. */
export function decodeTimeIdCursor(text: string): TimeIdCursor | null {
  const match = /^(\d{1,17})_([0-9a-f-]{36})$/.exec(Buffer.from(text, 'base64url').toString());
  if (!match?.[1] || !match[2]) return null;
  return { micros: Number(match[1]), id: match[2] };
}
