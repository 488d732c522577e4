import { z } from 'zod';
import {
  ClientMsgIdSchema,
  DisplayNameSchema,
  MessageIdSchema,
  NamedUserSchema,
  pageSchema,
  RoomIdSchema,
  SeqSchema,
  TimestampSchema,
  UserIdSchema,
} from './common.js';

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
  thumbnail_url: z
    .string()
    .optional()
    .describe('Images: a JPEG or WebP of at most 320 px on its long side (`?size=thumb`), made at upload'),
});
export type Attachment = z.infer<typeof AttachmentSchema>;

/** A thread root's replies at a glance (DESIGN 10.5): only in acks and REST answers. */
export const ThreadSummarySchema = z
  .object({
    reply_count: z.number().int().positive().describe('Replies not deleted'),
    last_reply_at: TimestampSchema,
    participant_ids: z.array(UserIdSchema).max(10).describe('Senders of the replies, in the order of their first reply, at most 10'),
  })
  .describe("A thread root's replies");
export type ThreadSummary = z.infer<typeof ThreadSummarySchema>;

/** In events `me` is absent (events are encoded once for every recipient); acks and REST carry it. */
export const ReactionSummarySchema = z.object({
  emoji: z.string(),
  count: z.number().int().positive(),
  me: z.boolean().optional(),
});
export type ReactionSummary = z.infer<typeof ReactionSummarySchema>;

export const PrioritySchema = z
  .enum(['normal', 'urgent'])
  .describe('`urgent` is pushed at once, never coalesced, past mute and notify levels (DESIGN 10.2)');
export type Priority = z.infer<typeof PrioritySchema>;

/**
 * How many members acknowledged a message that asked for it; `me` (acks and REST only, absent in
 * events, which are encoded once for every recipient) says whether the viewer did.
 */
export const AcknowledgementSummarySchema = z.object({
  count: z.number().int().nonnegative(),
  me: z.boolean().optional(),
});
export type AcknowledgementSummary = z.infer<typeof AcknowledgementSummarySchema>;

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
    thread_root_id: MessageIdSchema.nullable()
      // Events stored before threads existed lack it: they read as top-level messages.
      .default(null)
      .describe('The root of the thread this message replies in, or null'),
    thread: ThreadSummarySchema.nullable()
      .optional()
      .describe('On a thread root with replies its summary, else null; in acks and REST answers only (events leave it out: clients count)'),
    attachments: z.array(AttachmentSchema),
    reactions: z.array(ReactionSummarySchema),
    // Defaults: messages stored (and room last_message copies made) before these fields existed.
    priority: PrioritySchema.default('normal'),
    ack_requested: z.boolean().default(false).describe('The sender asked every member to acknowledge it'),
    acknowledgements: AcknowledgementSummarySchema.default({ count: 0 }),
    created_at: TimestampSchema,
    edited_at: TimestampSchema.nullable(),
    deleted_at: TimestampSchema.nullable(),
  })
  .describe('A message; a deleted one keeps its place and seq with an empty body and no attachments');
export type Message = z.infer<typeof MessageSchema>;
/** A page of messages: history and search. */
export const MessagePageSchema = pageSchema(MessageSchema);

/** What a client sends to create a message, over the socket or REST. */
export const SendMessageBodySchema = z.object({
  client_msg_id: ClientMsgIdSchema,
  body: z.string().max(64 * 1024),
  reply_to: MessageIdSchema.nullish(),
  thread_root_id: MessageIdSchema.nullish().describe(
    'Reply in the thread of this message: one of the same room that is not itself a thread reply (422 invalid otherwise)',
  ),
  mentions: z.array(UserIdSchema).max(100).optional(),
  attachment_ids: z.array(z.uuid()).max(10).optional(),
  priority: PrioritySchema.optional().describe(
    'Default `normal`; `urgent` needs a room owner/admin or a staff, moderator or service token',
  ),
  ack_requested: z
    .boolean()
    .optional()
    .describe('Ask members to acknowledge it (default false); needs a room owner/admin or a staff, moderator or service token'),
});
export type SendMessageBody = z.infer<typeof SendMessageBodySchema>;

/**
 * What a host application posts into the room of one of its objects (DESIGN 10.4): stored as a
 * message of kind `system` from the service token's `sub` and `name`, idempotent by client_msg_id,
 * optionally urgent or asking for acknowledgements (a service token may, DESIGN 10.2).
 */
export const SystemMessageBodySchema = SendMessageBodySchema.pick({
  client_msg_id: true,
  body: true,
  priority: true,
  ack_requested: true,
});
export type SystemMessageBody = z.infer<typeof SystemMessageBodySchema>;

export const EditMessageBodySchema = z.object({ body: z.string().max(64 * 1024) });

export const HistoryQuerySchema = z.object({
  before_seq: SeqSchema.optional(),
  after_seq: SeqSchema.optional(),
  limit: z.number().int().min(1).max(100).optional(),
  thread_root_id: MessageIdSchema.optional(),
  top_level: z.boolean().optional(),
});
export type HistoryQuery = z.infer<typeof HistoryQuerySchema>;

/** One member's acknowledgement of a message that asked for it, with the name they presented when acknowledging. */
export const AcknowledgementSchema = NamedUserSchema.extend({
  acknowledged_at: TimestampSchema,
});
export type Acknowledgement = z.infer<typeof AcknowledgementSchema>;

export const AcknowledgementListSchema = z
  .object({
    items: z.array(AcknowledgementSchema).describe('Who acknowledged, first first'),
    pending: z.array(UserIdSchema).describe("The room's members at send time, less the sender, who have not acknowledged"),
  })
  .describe('Who acknowledged a message and who has not yet');
export type AcknowledgementList = z.infer<typeof AcknowledgementListSchema>;
