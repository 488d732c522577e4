import { z } from 'zod';
import { ActorSchema } from '../auth/verifier.js';
import { pageSchema, RoomIdSchema, SeqSchema } from '../contracts/common.js';
import { EmojiSchema } from '../contracts/frames.js';
import {
  AcknowledgementListSchema,
  AttachmentSchema,
  HistoryQuerySchema,
  MessageSchema,
  PrioritySchema,
  SendMessageBodySchema,
  SystemMessageBodySchema,
} from '../contracts/message.js';
import {
  CreateReportBodySchema,
  ModerationReportPageSchema,
  ReportSchema,
  ReportStatusSchema,
  UpdateReportBodySchema,
} from '../contracts/report.js';
import { ContextRefSchema } from '../contracts/room.js';
import { ErrorBodySchema } from '../errors/index.js';
import { defineEndpoints } from '../nats/endpoint.js';

/** Items one `sync_batch` request may hold. */
export const SYNC_BATCH_MAX_ITEMS = 200;

export const SyncRequestSchema = z.object({
  actor: ActorSchema,
  room_id: RoomIdSchema,
  since_seq: SeqSchema.optional(),
  max_events: z.number().int().min(0).max(10_000),
  /**
   * Set by a gateway that has just checked the actor against the room's member list from the
   * rooms service (kept current by member signals); the service then skips asking again.
   */
  membership_checked: z.boolean().optional(),
});
export type SyncRequest = z.infer<typeof SyncRequestSchema>;

export const SyncAnswerSchema = z.object({
  last_seq: SeqSchema,
  /** Encoded event frames exactly as they were published, so replay and live bytes match. */
  events: z.array(z.string()).nullable(),
  /** False when some event up to last_seq was not yet handed to NATS at the time of the query. */
  all_published: z.boolean(),
  /**
   * Under joined history: the subscriber sees only events after this seq, and events about
   * messages up to it reach them as `event.hidden` (the gateway does the same for live events).
   */
  visible_from_seq: SeqSchema.optional(),
});
export type SyncAnswer = z.infer<typeof SyncAnswerSchema>;

/**
 * One item of a `sync_batch`: its answer, its error, or `deferred` when its replay would have
 * taken the batch past its byte budget (the caller asks for that one alone with `sync`).
 */
export const SyncResultSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('ok'), answer: SyncAnswerSchema }),
  z.object({ status: z.literal('error'), error: ErrorBodySchema }),
  z.object({ status: z.literal('deferred') }),
]);
export type SyncResult = z.infer<typeof SyncResultSchema>;

/** What the gateway stored for an upload: type and dimensions were read from the bytes. */
export const AttachmentUploadSchema = z.object({
  id: z.uuid(),
  name: z.string().min(1).max(255),
  content_type: z.string().min(1).max(255),
  size: z.number().int().nonnegative(),
  width: z.number().int().positive().optional(),
  height: z.number().int().positive().optional(),
  storage_key: z.string().min(1).max(500),
  /** Made at upload for images (DESIGN 10.5), stored under `<storage_key>.thumb`. */
  thumbnail: z
    .object({
      content_type: z.enum(['image/jpeg', 'image/webp']),
      size: z.number().int().positive(),
      width: z.number().int().positive(),
      height: z.number().int().positive(),
    })
    .optional(),
});
export type AttachmentUpload = z.infer<typeof AttachmentUploadSchema>;

/** Where an image's thumbnail is stored: beside it, so whatever removes the image removes both. */
export function thumbnailKeyOf(storageKey: string): string {
  return `${storageKey}.thumb`;
}

export const messagesRpc = defineEndpoints('messages', {
  registerAttachment: {
    description: 'Record an uploaded file (stored by the gateway) so its uploader can attach it to a message of the room',
    request: z.object({ actor: ActorSchema, room_id: RoomIdSchema, upload: AttachmentUploadSchema }),
    response: AttachmentSchema,
  },
  getAttachment: {
    description: 'An attachment and where its bytes are, for a member of its room',
    request: z.object({ actor: ActorSchema, attachment_id: z.uuid() }),
    response: z.object({
      attachment: AttachmentSchema,
      storage_key: z.string(),
      thumbnail: z.object({ storage_key: z.string(), content_type: z.string(), size: z.number().int().positive() }).nullable(),
    }),
  },
  leaseUnreachableBlobs: {
    description:
      "Attachments whose bytes nobody can reach (never attached in time, or their message deleted), leased to the calling gateway's blob sweep",
    request: z.object({ limit: z.number().int().min(1).max(1000), lease_ms: z.number().int().min(1000).max(3_600_000) }),
    response: z.object({ blobs: z.array(z.object({ id: z.uuid(), storage_key: z.string() })) }),
  },
  markBlobsDeleted: {
    description: 'Records that the blob sweep deleted these attachments’ bytes',
    request: z.object({ ids: z.array(z.uuid()).max(1000) }),
    response: z.object({ marked: z.number().int().nonnegative() }),
  },
  send: {
    description: 'Store a message with the next seq of its room (idempotent on sender + client_msg_id)',
    request: z.object({ actor: ActorSchema, room_id: RoomIdSchema, message: SendMessageBodySchema }),
    response: z.object({ message: MessageSchema, created: z.boolean() }),
  },
  sendSystem: {
    description:
      "Service tokens only: store a system message in a host object's room (idempotent on sender + client_msg_id); conflict when the room is closed",
    request: z.object({ actor: ActorSchema, context: ContextRefSchema, message: SystemMessageBodySchema }),
    response: z.object({ message: MessageSchema, created: z.boolean() }),
  },
  edit: {
    description: 'Edit a message (sender only, not after delete); a new event with its own seq',
    request: z.object({ actor: ActorSchema, room_id: RoomIdSchema, message_id: z.uuid(), body: z.string().max(64 * 1024) }),
    response: MessageSchema,
  },
  react: {
    description: "Add or remove the actor's reaction; a change is a reaction.updated event with its own seq",
    request: z.object({
      actor: ActorSchema,
      room_id: RoomIdSchema,
      message_id: z.uuid(),
      emoji: EmojiSchema,
      action: z.enum(['added', 'removed']),
    }),
    response: MessageSchema,
  },
  delete: {
    description: 'Soft-delete a message (sender, room owner/admin, moderator); a new event with its own seq',
    request: z.object({ actor: ActorSchema, room_id: RoomIdSchema, message_id: z.uuid() }),
    response: MessageSchema,
  },
  acknowledge: {
    description:
      'Record that the actor has seen a message that asked for it; the first time is a message.acknowledged event with its own seq, a repeat changes nothing',
    request: z.object({ actor: ActorSchema, room_id: RoomIdSchema, message_id: z.uuid() }),
    response: MessageSchema,
  },
  acknowledgements: {
    description: "Who acknowledged a message, and who of the room's members at send time (less the sender) has not",
    request: z.object({ actor: ActorSchema, room_id: RoomIdSchema, message_id: z.uuid() }),
    response: AcknowledgementListSchema,
  },
  reportMessage: {
    description: "Report a message of the actor's room to the moderators; the same reporter again gets the same report (created: false)",
    request: z.object({ actor: ActorSchema, room_id: RoomIdSchema, message_id: z.uuid(), report: CreateReportBodySchema }),
    response: z.object({ report: ReportSchema, created: z.boolean() }),
  },
  listReports: {
    description: 'Moderator and service tokens: reports with one status, oldest first, each with its message as reported',
    request: z.object({
      actor: ActorSchema,
      status: ReportStatusSchema.default('open'),
      limit: z.number().int().min(1).max(100).default(50),
      cursor: z.string().max(200).optional(),
    }),
    response: ModerationReportPageSchema,
  },
  updateReport: {
    description: 'Moderator and service tokens: resolve or dismiss a report',
    request: z.object({ actor: ActorSchema, report_id: z.uuid(), update: UpdateReportBodySchema }),
    response: ReportSchema,
  },
  search: {
    description: 'Full-text and partial-word search over the rooms the actor is a member of; deleted messages never match',
    request: z.object({
      actor: ActorSchema,
      q: z.string().min(1).max(200),
      room_id: RoomIdSchema.optional(),
      limit: z.number().int().min(1).max(100).default(20),
      cursor: z.string().max(200).optional(),
    }),
    response: pageSchema(MessageSchema),
  },
  history: {
    description: 'A page of messages, oldest first within the page',
    request: z.object({ actor: ActorSchema, room_id: RoomIdSchema, query: HistoryQuerySchema }),
    response: pageSchema(MessageSchema),
  },
  roomState: {
    description: "A room's last seq, straight from the sequence (no read model lag)",
    request: z.object({ room_id: RoomIdSchema }),
    response: z.object({ last_seq: SeqSchema }),
  },
  lastSeqs: {
    description: "Several rooms' last seqs (0 for a room without events): where a gateway's room channel starts ordering",
    request: z.object({ room_ids: z.array(RoomIdSchema).max(1000) }),
    response: z.object({ last_seqs: z.record(z.string(), SeqSchema) }),
  },
  roomLog: {
    description: "A room's committed events after after_seq, in seq order, as published: fills a gap a gateway saw in the live stream",
    request: z.object({ room_id: RoomIdSchema, after_seq: SeqSchema, limit: z.number().int().min(1).max(1000) }),
    response: z.object({
      events: z.array(z.string()),
      reply_to_seqs: z
        .array(SeqSchema.nullable())
        .optional()
        .describe("Per event, the seq of the message its message replies to (null: none), for late joiners' copies"),
    }),
  },
  messageStates: {
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
          thread_root_id: z.uuid().nullable(),
          thread_participants: z.array(z.string()).describe("For a thread reply: its root's author and the thread's repliers"),
          preview: z.string(),
          // Optional: a notifier may ask a messages service that predates them.
          priority: PrioritySchema.optional(),
          ack_requested: z.boolean().optional(),
          /** For a message with ack_requested: the members at send time (less the sender) who have not acknowledged. */
          ack_pending: z.array(z.string()).nullable().optional(),
        }),
      ),
    }),
  },
  getMessage: {
    description: 'One message of a room, for a member',
    request: z.object({ actor: ActorSchema, room_id: RoomIdSchema, message_id: z.uuid() }),
    response: MessageSchema,
  },
  sync: {
    description:
      "What a subscriber needs: the room's last seq and, after since_seq, the missed events in order (null when more than max_events: resync)",
    request: SyncRequestSchema,
    response: SyncAnswerSchema,
  },
  syncBatch: {
    description: 'Many subscribes at once (a burst of connects or resumes), read in one snapshot: an answer or an error per item, in order',
    request: z.object({ items: z.array(SyncRequestSchema).min(1).max(SYNC_BATCH_MAX_ITEMS) }),
    response: z.object({ results: z.array(SyncResultSchema) }),
  },
});
