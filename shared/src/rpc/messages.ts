import { z } from 'zod';
import { ActorSchema } from '../auth/verifier.js';
import { pageSchema, RoomIdSchema, SeqSchema } from '../contracts/common.js';
import { EmojiSchema } from '../contracts/frames.js';
import { AttachmentSchema, HistoryQuerySchema, MessageSchema, SendMessageBodySchema } from '../contracts/message.js';
import { defineEndpoint } from '../nats/endpoint.js';

const service = 'messages';

/** What the gateway stored for an upload: type and dimensions were read from the bytes. */
export const AttachmentUploadSchema = z.object({
  id: z.uuid(),
  name: z.string().min(1).max(255),
  content_type: z.string().min(1).max(255),
  size: z.number().int().nonnegative(),
  width: z.number().int().positive().optional(),
  height: z.number().int().positive().optional(),
  storage_key: z.string().min(1).max(500),
});
export type AttachmentUpload = z.infer<typeof AttachmentUploadSchema>;

export const messagesRpc = {
  registerAttachment: defineEndpoint({
    service,
    name: 'register_attachment',
    description: 'Record an uploaded file (stored by the gateway) so its uploader can attach it to a message of the room',
    request: z.object({ actor: ActorSchema, room_id: RoomIdSchema, upload: AttachmentUploadSchema }),
    response: AttachmentSchema,
  }),
  getAttachment: defineEndpoint({
    service,
    name: 'get_attachment',
    description: 'An attachment and where its bytes are, for a member of its room',
    request: z.object({ actor: ActorSchema, attachment_id: z.uuid() }),
    response: z.object({ attachment: AttachmentSchema, storage_key: z.string() }),
  }),
  send: defineEndpoint({
    service,
    name: 'send',
    description: 'Store a message with the next seq of its room (idempotent on sender + client_msg_id)',
    request: z.object({ actor: ActorSchema, room_id: RoomIdSchema, message: SendMessageBodySchema }),
    response: z.object({ message: MessageSchema, created: z.boolean() }),
  }),
  edit: defineEndpoint({
    service,
    name: 'edit',
    description: 'Edit a message (sender only, not after delete); a new event with its own seq',
    request: z.object({ actor: ActorSchema, room_id: RoomIdSchema, message_id: z.uuid(), body: z.string().max(64 * 1024) }),
    response: MessageSchema,
  }),
  react: defineEndpoint({
    service,
    name: 'react',
    description: "Add or remove the actor's reaction; a change is a reaction.updated event with its own seq",
    request: z.object({
      actor: ActorSchema,
      room_id: RoomIdSchema,
      message_id: z.uuid(),
      emoji: EmojiSchema,
      action: z.enum(['added', 'removed']),
    }),
    response: MessageSchema,
  }),
  deleteMessage: defineEndpoint({
    service,
    name: 'delete',
    description: 'Soft-delete a message (sender, room owner/admin, moderator); a new event with its own seq',
    request: z.object({ actor: ActorSchema, room_id: RoomIdSchema, message_id: z.uuid() }),
    response: MessageSchema,
  }),
  search: defineEndpoint({
    service,
    name: 'search',
    description: 'Full-text and partial-word search over the rooms the actor is a member of; deleted messages never match',
    request: z.object({
      actor: ActorSchema,
      q: z.string().min(1).max(200),
      room_id: RoomIdSchema.optional(),
      limit: z.number().int().min(1).max(100).default(20),
      cursor: z.string().max(200).optional(),
    }),
    response: pageSchema(MessageSchema),
  }),
  history: defineEndpoint({
    service,
    name: 'history',
    description: 'A page of messages, oldest first within the page',
    request: z.object({ actor: ActorSchema, room_id: RoomIdSchema, query: HistoryQuerySchema }),
    response: pageSchema(MessageSchema),
  }),
  roomState: defineEndpoint({
    service,
    name: 'room_state',
    description: "A room's last seq, straight from the sequence (no read model lag)",
    request: z.object({ room_id: RoomIdSchema }),
    response: z.object({ last_seq: SeqSchema }),
  }),
  messageStates: defineEndpoint({
    service,
    name: 'message_states',
    description: 'Current state of some messages of a room (for push re-checks): deleted or not, mentions, a preview',
    request: z.object({ room_id: RoomIdSchema, message_ids: z.array(z.uuid()).max(1000) }),
    response: z.object({
      messages: z.array(
        z.object({
          id: z.uuid(),
          seq: SeqSchema,
          sender_id: z.string(),
          sender_name: z.string().nullable(),
          kind: z.string(),
          deleted: z.boolean(),
          mentions: z.array(z.string()),
          preview: z.string(),
        }),
      ),
    }),
  }),
  getMessage: defineEndpoint({
    service,
    name: 'get_message',
    description: 'One message of a room, for a member',
    request: z.object({ actor: ActorSchema, room_id: RoomIdSchema, message_id: z.uuid() }),
    response: MessageSchema,
  }),
  sync: defineEndpoint({
    service,
    name: 'sync',
    description:
      "What a subscriber needs: the room's last seq and, after since_seq, the missed events in order (null when more than max_events: resync)",
    request: z.object({
      actor: ActorSchema,
      room_id: RoomIdSchema,
      since_seq: SeqSchema.optional(),
      max_events: z.number().int().min(0).max(10_000),
      /**
       * Set by a gateway that has just checked the actor against the room's member list from the
       * rooms service (kept current by member signals); the service then skips asking again.
       */
      membership_checked: z.boolean().optional(),
    }),
    response: z.object({
      last_seq: SeqSchema,
      /** Encoded event frames exactly as they were published, so replay and live bytes match. */
      events: z.array(z.string()).nullable(),
      /** False when some event up to last_seq was not yet handed to NATS at the time of the query. */
      all_published: z.boolean(),
    }),
  }),
} as const;
