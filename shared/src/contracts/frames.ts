import { z } from 'zod';
import { ErrorCodeSchema, FieldIssueSchema } from '../errors/index.js';
import { MessageIdSchema, RoomIdSchema, SeqSchema, UserIdSchema } from './common.js';
import { MessageSchema, SendMessageBodySchema } from './message.js';
import { RoomSchema } from './room.js';

/** Correlation id a client puts on a request; echoed on its `ack` or `error`. */
export const FrameIdSchema = z.string().min(1).max(128);
const request = <T extends string>(type: T) => z.object({ type: z.literal(type), id: FrameIdSchema.optional() });

const RoomRef = { room_id: RoomIdSchema };
const MessageRef = { room_id: RoomIdSchema, message_id: MessageIdSchema };
export const EmojiSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^(?:\p{Extended_Pictographic}|\p{Emoji_Component}|\u200d|\ufe0f)+$|^:[a-z0-9_+-]{1,62}:$/u, 'an emoji or a :short_code:');

export const ClientFrameSchema = z.discriminatedUnion('type', [
  request('subscribe').extend({ ...RoomRef, since_seq: SeqSchema.optional() }),
  request('unsubscribe').extend(RoomRef),
  request('message.send').extend({ ...RoomRef, ...SendMessageBodySchema.shape }),
  request('message.edit').extend({ ...MessageRef, body: z.string().max(64 * 1024) }),
  request('message.delete').extend(MessageRef),
  request('reaction.add').extend({ ...MessageRef, emoji: EmojiSchema }),
  request('reaction.remove').extend({ ...MessageRef, emoji: EmojiSchema }),
  request('typing').extend(RoomRef),
  request('read').extend({ ...RoomRef, seq: SeqSchema }),
  request('ping'),
]);
export type ClientFrame = z.infer<typeof ClientFrameSchema>;
export type ClientFrameType = ClientFrame['type'];
export type ClientFrameOf<T extends ClientFrameType> = Extract<ClientFrame, { type: T }>;

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
]);
export type RoomEvent = z.infer<typeof RoomEventSchema>;

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
