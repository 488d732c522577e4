import { z } from 'zod';
import { MessageIdSchema, QueryIntSchema, RoomIdSchema } from './common.js';

/** Query strings of the REST API (values arrive as text; these accept and convert them). */
const BooleanQuery = z.enum(['true', 'false']).transform((v) => v === 'true');
/** A page size from the query string, 1..max. */
export const LimitQuery = (max: number) => QueryIntSchema.pipe(z.number().min(1).max(max));

export const ListRoomsQuerySchema = z.object({
  archived: BooleanQuery.optional().describe('true lists archived and closed rooms instead'),
  limit: LimitQuery(100).optional(),
  cursor: z.string().max(200).optional(),
});

export const ListMembersQuerySchema = z.object({
  limit: LimitQuery(1000).optional(),
  cursor: z.string().max(200).optional(),
});

export const HistoryHttpQuerySchema = z.object({
  before_seq: QueryIntSchema.optional().describe('Messages with a smaller seq (exclusive)'),
  after_seq: QueryIntSchema.optional().describe('Messages with a greater seq (exclusive)'),
  limit: LimitQuery(100).optional().describe('Default 50'),
  thread_root_id: MessageIdSchema.optional().describe("That thread's replies only (the root left out)"),
  top_level: BooleanQuery.optional().describe('true leaves thread replies out'),
});

export const DownloadQuerySchema = z.object({
  size: z
    .enum(['full', 'thumb'])
    .optional()
    .describe('thumb: the JPEG or WebP thumbnail of an image (≤320 px on its long side); 404 when it has none'),
});

export const SearchQuerySchema = z.object({
  q: z.string().trim().min(1, 'must not be blank').max(200),
  room_id: RoomIdSchema.optional(),
  limit: LimitQuery(100).optional(),
  cursor: z.string().max(200).optional(),
});
