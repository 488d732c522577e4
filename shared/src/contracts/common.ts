import { z } from 'zod';

export const UserIdSchema = z.string().min(1).max(128).describe('User id: the JWT `sub`, 1-128 characters');
export const RoomIdSchema = z.uuid().describe('Room id (uuid)');
export const MessageIdSchema = z.uuid().describe('Message id (uuid)');
export const SeqSchema = z.number().int().nonnegative().describe("A place in a room's gapless event sequence");
export const ClientMsgIdSchema = z
  .string()
  .min(1)
  .max(64)
  .describe('Idempotency key chosen by the client; the same key from the same user yields the same message');
export const TimestampSchema = z.iso.datetime({ offset: true }).describe('RFC 3339 timestamp');
export const DisplayNameSchema = z.string().min(1).max(200);
/** A user as others see them: the id and a display name (null when none is known; each schema that extends it says which name). */
export const NamedUserSchema = z.object({ user_id: UserIdSchema, name: DisplayNameSchema.nullable() });

/** Default limits of DESIGN.md section 5; services read the configured values. */
export const DEFAULT_LIMITS = {
  messageBodyMaxChars: 4000,
  frameMaxBytes: 64 * 1024,
  memberIdsPerRequest: 500,
  groupMaxMembers: 10_000,
  historyPageDefault: 50,
  historyPageMax: 100,
  roomTitleMaxChars: 200,
} as const;

/** Counts user-perceived characters as code points, so an emoji is one character, not two. */
export function countChars(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** A list page: `{items, next_cursor}`; `next_cursor` is null on the last page. */
export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), next_cursor: z.string().nullable() });
}
export type Page<T> = { items: T[]; next_cursor: string | null };

/** Query-string integers arrive as text; this accepts both forms and rejects anything else. */
export const QueryIntSchema = z
  .union([z.number().int().nonnegative(), z.string().regex(/^\d{1,15}$/, 'must be a non-negative integer')])
  .transform((value) => Number(value));
