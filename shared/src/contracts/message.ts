import { z } from 'zod';
import { ClientMsgIdSchema, DisplayNameSchema, MessageIdSchema, RoomIdSchema, SeqSchema, TimestampSchema, UserIdSchema } from './common.js';

export const MessageKindSchema = z.enum(['text', 'image', 'file', 'system']);
export type MessageKind = z.infer<typeof MessageKindSchema>;

export const AttachmentSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  content_type: z.string(),
  size: z.number().int().nonnegative(),
  url: z.string(),
  width: z.number().int().positive().optional(),
  height: z.number().int().positive().optional(),
});
export type Attachment = z.infer<typeof AttachmentSchema>;

/** In events `me` is absent (events are encoded once for every recipient); acks and REST carry it. */
export const ReactionSummarySchema = z.object({
  emoji: z.string(),
  count: z.number().int().positive(),
  me: z.boolean().optional(),
});
export type ReactionSummary = z.infer<typeof ReactionSummarySchema>;

export const MessageSchema = z
  .object({
    id: MessageIdSchema,
    room_id: RoomIdSchema,
    seq: SeqSchema,
    client_msg_id: ClientMsgIdSchema,
    sender_id: UserIdSchema,
    sender_name: DisplayNameSchema.nullable(),
    kind: MessageKindSchema,
    body: z.string(),
    mentions: z.array(UserIdSchema),
    reply_to: MessageIdSchema.nullable(),
    attachments: z.array(AttachmentSchema),
    reactions: z.array(ReactionSummarySchema),
    created_at: TimestampSchema,
    edited_at: TimestampSchema.nullable(),
    deleted_at: TimestampSchema.nullable(),
  })
  .describe('A message; a deleted one keeps its place and seq with an empty body and no attachments');
export type Message = z.infer<typeof MessageSchema>;

/** What a client sends to create a message, over the socket or REST. */
export const SendMessageBodySchema = z.object({
  client_msg_id: ClientMsgIdSchema,
  body: z.string().max(64 * 1024),
  reply_to: MessageIdSchema.nullish(),
  mentions: z.array(UserIdSchema).max(100).optional(),
  attachment_ids: z.array(z.uuid()).max(10).optional(),
});
export type SendMessageBody = z.infer<typeof SendMessageBodySchema>;

export const EditMessageBodySchema = z.object({ body: z.string().max(64 * 1024) });

export const HistoryQuerySchema = z.object({
  before_seq: SeqSchema.optional(),
  after_seq: SeqSchema.optional(),
  limit: z.number().int().min(1).max(100).optional(),
});
export type HistoryQuery = z.infer<typeof HistoryQuerySchema>;
