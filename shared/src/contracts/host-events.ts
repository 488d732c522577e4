import { z } from 'zod';
import { RoomIdSchema, SeqSchema, TimestampSchema, UserIdSchema } from './common.js';
import { EmojiSchema } from './frames.js';
import { MessageSchema } from './message.js';
import { ReportSchema } from './report.js';
import { RoomSchema } from './room.js';

/**
 * Events for the host application (DESIGN 10.4): what the event webhook POSTs. Persisted room
 * events (those with a seq) come from the room event log as they are; the others (membership,
 * room changes, reports) are recorded by the service that makes them on the room activity stream
 * (`publishRoomActivity`). Adding a type is one entry below: its data schema, and whether it is
 * persisted (then it reaches the webhook by itself, from the room event stream).
 */
const withMessage = z.object({ message: MessageSchema });
const PublicRoomSchema = RoomSchema.omit({ me: true });

export const hostEventTypes = {
  // Persisted: `data` is the socket event less type, room_id and seq.
  'message.created': { persisted: true, data: withMessage },
  'message.updated': { persisted: true, data: withMessage },
  'message.deleted': { persisted: true, data: withMessage },
  'reaction.updated': {
    persisted: true,
    data: withMessage.extend({ user_id: UserIdSchema, emoji: EmojiSchema, action: z.enum(['added', 'removed']) }),
  },
  'message.acknowledged': { persisted: true, data: withMessage.extend({ user_id: UserIdSchema }) },
  'member.added': { persisted: false, data: z.object({ user_id: UserIdSchema }) },
  'member.removed': { persisted: false, data: z.object({ user_id: UserIdSchema }) },
  'room.updated': { persisted: false, data: z.object({ room: PublicRoomSchema }) },
  'room.closed': { persisted: false, data: z.object({ room: PublicRoomSchema }) },
  'message.reported': { persisted: false, data: z.object({ report: ReportSchema }) },
} as const;

export type HostEventType = keyof typeof hostEventTypes;
export const HOST_EVENT_TYPES = Object.keys(hostEventTypes) as [HostEventType, ...HostEventType[]];
export const HostEventTypeSchema = z.enum(HOST_EVENT_TYPES);
/** Types that reach the webhook from the room activity stream (no seq). */
export type RoomActivityType = {
  [K in HostEventType]: (typeof hostEventTypes)[K]['persisted'] extends false ? K : never;
}[HostEventType];
export type HostEventData<T extends HostEventType> = z.infer<(typeof hostEventTypes)[T]['data']>;

const envelope = {
  id: z.string().min(1).max(200).describe('Unique per event; also the `webhook-id` header, the same on every retry'),
  room_id: RoomIdSchema,
  seq: SeqSchema.optional().describe("Persisted events only: the event's place in the room (delivered in this order per room)"),
  occurred_at: TimestampSchema,
};

/** One event as the webhook POSTs it. */
export const HostEventSchema = z
  .discriminatedUnion(
    'type',
    HOST_EVENT_TYPES.map((type) =>
      z.object({ ...envelope, type: z.literal(type), data: hostEventTypes[type].data as z.ZodObject }).describe(type),
    ) as unknown as [z.ZodObject, ...z.ZodObject[]],
  )
  .describe('An event POSTed to EVENTS_WEBHOOK_URL, signed with the Standard Webhooks headers and X-Chat-Signature');
export interface HostEvent {
  id: string;
  type: HostEventType;
  room_id: string;
  seq?: number;
  occurred_at: string;
  data: Record<string, unknown>;
}

/** What goes on the room activity stream: a host event without a seq. */
export interface RoomActivity<T extends RoomActivityType = RoomActivityType> {
  id: string;
  type: T;
  room_id: string;
  occurred_at: string;
  data: HostEventData<T>;
}

/** Narrows an activity to one type, with that type's data. */
export function isRoomActivity<T extends RoomActivityType>(event: RoomActivity, type: T): event is RoomActivity<T> {
  return event.type === type;
}

/** The id of a persisted event: stable, so a re-published or redelivered event keeps its webhook-id. */
export const persistedHostEventId = (roomId: string, seq: number) => `evt_${roomId}_${seq}`;
