import { z } from 'zod';
import { ErrorCodeSchema, FieldIssueSchema } from '../errors/index.js';
import { ClientMsgIdSchema, MessageIdSchema, RoomIdSchema, SeqSchema, UserIdSchema } from './common.js';
import { MessageSchema, SendMessageBodySchema } from './message.js';
import { RoomSchema } from './room.js';

/** Correlation id a client puts on a request; echoed on its `ack` or `error`. */
export const FrameIdSchema = z.string().min(1).max(128);
const request = <T extends string>(type: T) => z.object({ type: z.literal(type), id: FrameIdSchema.optional() });

const RoomRef = { room_id: RoomIdSchema };
const MessageRef = { room_id: RoomIdSchema, message_id: MessageIdSchema };
/**
 * One character class repeated (U+200D and U+FE0F are Emoji_Component), never an alternation under a
 * quantifier: the engine has one way to match each code point, so a rejection is linear in the input
 * (the former alternation of overlapping classes backtracked exponentially on a run of U+200D).
 */
export const EMOJI_PATTERN = /^(?:[\p{Extended_Pictographic}\p{Emoji_Component}]+|:[a-z0-9_+-]{1,62}:)$/u;
export const EmojiSchema = z.string().min(1).max(64).regex(EMOJI_PATTERN, 'an emoji or a :short_code:');

export const ClientFrameSchema = z.discriminatedUnion('type', [
  request('subscribe').extend({ ...RoomRef, since_seq: SeqSchema.optional() }),
  request('unsubscribe').extend(RoomRef),
  request('message.send').extend({ ...RoomRef, ...SendMessageBodySchema.shape }),
  request('message.edit').extend({ ...MessageRef, body: z.string().max(64 * 1024) }),
  request('message.delete').extend(MessageRef),
  request('message.acknowledge').extend(MessageRef),
  request('reaction.add').extend({ ...MessageRef, emoji: EmojiSchema }),
  request('reaction.remove').extend({ ...MessageRef, emoji: EmojiSchema }),
  request('typing').extend(RoomRef),
  request('read').extend({ ...RoomRef, seq: SeqSchema }),
  request('ping'),
]);
export type ClientFrame = z.infer<typeof ClientFrameSchema>;
export type ClientFrameType = ClientFrame['type'];
export type ClientFrameOf<T extends ClientFrameType> = Extract<ClientFrame, { type: T }>;

/**
 * Frames of the earlier systems, understood on the compatibility path `/ws/chat/{room_id}/` only
 * (DESIGN 10.5), so their web page and apps can send before they are updated. On that path every
 * frame may leave `room_id` out (the path's room is meant); modern frames are understood there too.
 * Each is answered like its modern equivalent: `chat_message` like `message.send`, `edit_message`
 * like `message.edit`, `read_receipt` and `mark_room_read` like `read`.
 */
const compat = <T extends string>(type: T) => request(type).extend({ room_id: RoomIdSchema.optional() });
const LegacyTextSchema = z.string().max(64 * 1024);
export const CompatClientFrameSchema = z.discriminatedUnion('type', [
  compat('chat_message').extend({
    message: LegacyTextSchema.optional().describe('The text (the staff web sends it here)'),
    content: LegacyTextSchema.optional().describe('The text (the trip app sends it here); one of message/content is required'),
    reply_to: MessageIdSchema.nullish(),
    client_msg_id: ClientMsgIdSchema.optional().describe('Made up by the server when absent (then a resend is a new message)'),
  }),
  compat('edit_message').extend({
    message_id: MessageIdSchema,
    content: LegacyTextSchema.optional(),
    message: LegacyTextSchema.optional().describe('The new text, in content or message'),
  }),
  compat('read_receipt').extend({ message_id: MessageIdSchema.describe('Marks the room read up to this message') }),
  compat('mark_room_read'),
  compat('typing').extend({ is_typing: z.boolean().optional().describe('Ignored: any typing frame types') }),
]);
export type CompatClientFrame = z.infer<typeof CompatClientFrameSchema>;
export const COMPAT_FRAME_TYPES: ReadonlySet<string> = new Set(['chat_message', 'edit_message', 'read_receipt', 'mark_room_read']);

export const SubscribeAckSchema = z.object({
  room_id: RoomIdSchema,
  last_seq: SeqSchema,
  online: z.array(UserIdSchema).describe('Members of the room with an open socket'),
});
export const MessageAckSchema = z.object({ message: MessageSchema });
export const ReadAckSchema = z.object({
  room_id: RoomIdSchema,
  last_read_seq: SeqSchema,
  unread_count: z.number().int().nonnegative(),
});

export const HelloFrameSchema = z.object({
  type: z.literal('hello'),
  user_id: UserIdSchema,
  heartbeat_ms: z.number().int().positive(),
  session_id: z.string(),
  server_time: z.string(),
});
export const AckFrameSchema = z.object({
  type: z.literal('ack'),
  id: FrameIdSchema.nullable(),
  data: z.record(z.string(), z.unknown()),
});
export const ErrorFrameSchema = z.object({
  type: z.literal('error'),
  id: FrameIdSchema.nullable(),
  code: ErrorCodeSchema,
  message: z.string(),
  details: z.array(FieldIssueSchema).optional(),
  retry_after_ms: z.number().int().nonnegative().optional(),
});
export const PongFrameSchema = z.object({ type: z.literal('pong') });
export const ResyncFrameSchema = z.object({ type: z.literal('resync'), room_id: RoomIdSchema });

/** Events persisted in a room's log carry `seq`, their place in the room's sequence. */
const persisted = <T extends string>(type: T) => z.object({ type: z.literal(type), room_id: RoomIdSchema, seq: SeqSchema });
const ephemeral = <T extends string>(type: T) => z.object({ type: z.literal(type), room_id: RoomIdSchema });

export const RoomEventSchema = z.discriminatedUnion('type', [
  persisted('message.created').extend({ message: MessageSchema }),
  persisted('message.updated').extend({ message: MessageSchema }),
  persisted('message.deleted').extend({ message: MessageSchema }),
  persisted('reaction.updated').extend({
    message: MessageSchema,
    user_id: UserIdSchema,
    emoji: EmojiSchema,
    action: z.enum(['added', 'removed']),
  }),
  persisted('message.acknowledged').extend({ message: MessageSchema, user_id: UserIdSchema }),
]);
export type RoomEvent = z.infer<typeof RoomEventSchema>;

/**
 * In a room with joined history, a persisted event about a message from before the recipient
 * joined (an edit, a reaction) is replaced by this: its seq keeps the recipient's sequence
 * gapless, and nothing of the earlier message is sent.
 */
export const HiddenEventFrameSchema = persisted('event.hidden').describe(
  'A persisted event you may not see (it concerns a message from before you joined a room with joined history): apply its seq only',
);

export const EphemeralEventSchema = z.discriminatedUnion('type', [
  ephemeral('typing').extend({
    user_id: UserIdSchema,
    name: z.string().nullable(),
    ttl_ms: z.number().int().positive().describe('Hide the indicator after this long unless another typing event renews it'),
  }),
  ephemeral('read').extend({ user_id: UserIdSchema, seq: SeqSchema }),
  ephemeral('presence').extend({ user_id: UserIdSchema, status: z.enum(['online', 'offline']) }),
  ephemeral('room.updated').extend({ room: RoomSchema.omit({ me: true }) }),
  ephemeral('member.added').extend({ user_id: UserIdSchema }),
  ephemeral('member.removed').extend({ user_id: UserIdSchema }),
]);
export type EphemeralEvent = z.infer<typeof EphemeralEventSchema>;

export const ServerFrameSchema = z.union([
  HelloFrameSchema,
  AckFrameSchema,
  ErrorFrameSchema,
  PongFrameSchema,
  ResyncFrameSchema,
  RoomEventSchema,
  HiddenEventFrameSchema,
  EphemeralEventSchema,
]);
export type ServerFrame = z.infer<typeof ServerFrameSchema>;

/** WebSocket close codes of DESIGN.md section 6. */
export const CloseCodes = {
  unauthenticated: 4001,
  forbidden: 4003,
  policyViolation: 4008,
  tooSlow: 4009,
  frameTooBig: 1009,
  serverRestarting: 1012,
} as const;
