import { z } from 'zod';
import { ActorSchema } from '../auth/verifier.js';
import { pageSchema, RoomIdSchema, SeqSchema, UserIdSchema } from '../contracts/common.js';
import {
  AddMembersBodySchema,
  BanPageSchema,
  BanSchema,
  BlockPageSchema,
  BlockSchema,
  ContextRefSchema,
  ContextRoomBodySchema,
  CreateRoomBodySchema,
  HistoryVisibilitySchema,
  MemberSchema,
  MembershipSettingsBodySchema,
  NotifyLevelSchema,
  ReadStateSchema,
  ReceiptSchema,
  RoleSchema,
  RoomKindSchema,
  RoomSchema,
  UnreadSummarySchema,
  UpdateRoomBodySchema,
} from '../contracts/room.js';
import { defineEndpoints } from '../nats/endpoint.js';

const inRoom = { actor: ActorSchema, room_id: RoomIdSchema };
const RoomResult = z.object({ room: RoomSchema, created: z.boolean() });
// Functions, not shared schemas: the NATS AsyncAPI document names each endpoint's schemas after it,
// and a schema object used by two endpoints would be named after the first only.
/** A request about one user in a room (change role, remove, ban, unban). */
const userInRoom = () => z.object({ ...inRoom, user_id: UserIdSchema });
/** A request about one other user, outside any room (block, unblock). */
const otherUser = () => z.object({ actor: ActorSchema, user_id: UserIdSchema });
/** The answer of an action that has nothing to report but its success. */
const done = () => z.object({});

/** What another service asks to do in a room; the rooms domain holds the one rule set that decides. */
export const RoomActionSchema = z.enum(['room.read', 'message.send', 'message.send_urgent', 'message.moderate']);
export type RoomAction = z.infer<typeof RoomActionSchema>;

export const roomsRpc = defineEndpoints('rooms', {
  createRoom: {
    description: 'Create a group room, or find-or-create the direct room of two users',
    request: z.object({ actor: ActorSchema, body: CreateRoomBodySchema }),
    response: RoomResult,
  },
  ensureContextRoom: {
    description: 'Service tokens only: the one room of a host object, with exactly the given members',
    request: z.object({ actor: ActorSchema, context: ContextRefSchema, body: ContextRoomBodySchema }),
    response: RoomResult,
  },
  setContextRoomClosed: {
    description: 'Service tokens only: close (read-only) or reopen the room of a host object; idempotent',
    request: z.object({ actor: ActorSchema, context: ContextRefSchema, closed: z.boolean() }),
    response: RoomSchema,
  },
  contextRoom: {
    description: 'Service tokens only: the room of a host object (not_found when it has none) and whether it is closed',
    request: z.object({ actor: ActorSchema, context: ContextRefSchema }),
    response: z.object({ room_id: RoomIdSchema, closed: z.boolean() }),
  },
  getRoom: {
    description: 'One room as the actor sees it; not_found when the actor is not a member',
    request: z.object(inRoom),
    response: RoomSchema,
  },
  listRooms: {
    description: "The actor's rooms, most recent activity first",
    request: z.object({
      actor: ActorSchema,
      archived: z.boolean().default(false),
      limit: z.number().int().min(1).max(100).default(50),
      cursor: z.string().max(200).optional(),
    }),
    response: pageSchema(RoomSchema),
  },
  updateRoom: {
    description: 'Rename a room or set its history visibility: a group by its owners/admins, a context room by the service token',
    request: z.object({ ...inRoom, changes: UpdateRoomBodySchema }),
    response: RoomSchema,
  },
  updateMembership: {
    description: "The actor's own settings in a room: muted_until, notify, archived",
    request: z.object({ ...inRoom, settings: MembershipSettingsBodySchema }),
    response: RoomSchema,
  },
  listMembers: {
    description: 'Members of a room, in join order',
    request: z.object({ ...inRoom, limit: z.number().int().min(1).max(1000).default(100), cursor: z.string().max(200).optional() }),
    response: pageSchema(MemberSchema),
  },
  addMembers: {
    description: 'Add members to a group (owner/admin); existing members are left as they are',
    request: z.object({ ...inRoom, body: AddMembersBodySchema }),
    response: pageSchema(MemberSchema),
  },
  changeRole: {
    description: "Change a member's role (owner)",
    request: userInRoom().extend({ role: RoleSchema }),
    response: MemberSchema,
  },
  removeMember: {
    description: 'Remove a member (owner/admin) or leave (self); the longest-standing admin, else member, succeeds a last owner',
    request: userInRoom(),
    response: done(),
  },
  markRead: {
    description: "Move the actor's read cursor forward (never back) and return the absolute unread count",
    request: z.object({ ...inRoom, seq: SeqSchema }),
    response: ReadStateSchema,
  },
  receipts: {
    description: 'Who has read up to a seq: members other than the sender whose read cursor reached it',
    request: z.object({ ...inRoom, seq: SeqSchema, sender_id: UserIdSchema }),
    response: pageSchema(ReceiptSchema),
  },
  unreadSummary: {
    description: "The actor's unread total and the rooms that have unread messages (the app badge)",
    request: z.object({ actor: ActorSchema }),
    response: UnreadSummarySchema,
  },
  userRoomIds: {
    description:
      'The rooms each of these users is a member of, up to max_members members (presence fan-out skips large rooms); one call answers a burst of connects',
    request: z.object({ user_ids: z.array(UserIdSchema).min(1).max(1000), max_members: z.number().int().positive().optional() }),
    response: z.object({
      users: z.array(
        z.object({
          user_id: UserIdSchema,
          room_ids: z.array(RoomIdSchema),
          /** Rooms where the user sees history only after a seq (joined visibility): room id → that seq. */
          visible_from: z.record(z.string(), SeqSchema).optional(),
        }),
      ),
    }),
  },
  roomMembers: {
    description:
      "The user ids of a room's members, or null when the room has more than max_members (or does not exist: empty). Gateways keep it per room, updated by member signals",
    request: z.object({ room_id: RoomIdSchema, max_members: z.number().int().positive().max(10_000) }),
    response: z.object({
      user_ids: z.array(UserIdSchema).nullable(),
      /** Under joined history a subscriber's replay and live events depend on when they joined. */
      history_visibility: HistoryVisibilitySchema.optional(),
    }),
  },
  rememberUsers: {
    description: 'Record the display names users presented (titles of direct rooms, member lists); one call per burst of connects',
    request: z.object({ actors: z.array(ActorSchema).min(1).max(1000) }),
    response: done(),
  },
  pushFacts: {
    description:
      'What a push decision needs: the room title and, for the given users (all members without user_ids), their membership settings. With paged, members come by user id in pages that fit one NATS message: while next_after is set, ask again with after = next_after',
    request: z.object({
      room_id: RoomIdSchema,
      user_ids: z.array(UserIdSchema).max(10_000).optional(),
      /**
       * Answer one page (a client that reads `next_after`). Without it every member comes in one
       * answer, as for clients from before paging, which a large room's answer can outgrow.
       */
      paged: z.literal(true).optional(),
      /** With paged: members with a greater user id only (the previous page's `next_after`). */
      after: UserIdSchema.optional(),
    }),
    response: z.object({
      /** The last member of this page when more may follow; absent or null on the last page. */
      next_after: UserIdSchema.nullable().optional(),
      room: z.object({ id: RoomIdSchema, kind: RoomKindSchema, title: z.string().nullable() }).nullable(),
      members: z.array(
        z.object({
          user_id: UserIdSchema,
          name: z.string().nullable(),
          muted_until: z.string().nullable(),
          notify: NotifyLevelSchema,
          last_read_seq: SeqSchema,
          /** Messages up to this seq are from before the member joined a room with joined history: never pushed to them. */
          visible_from_seq: SeqSchema.optional(),
          /** Members of the room this member blocked: nothing they send is pushed to this member. */
          blocked_ids: z.array(UserIdSchema).optional(),
        }),
      ),
    }),
  },
  nonMembers: {
    description: 'Which of these users are not members of the room (mention checks)',
    request: z.object({ room_id: RoomIdSchema, user_ids: z.array(UserIdSchema).max(1000) }),
    response: z.object({ user_ids: z.array(UserIdSchema) }),
  },
  block: {
    description: 'The actor blocks a user (idempotent): no direct room or direct sends from them, no pushes of what they send',
    request: otherUser(),
    response: BlockSchema,
  },
  unblock: {
    description: 'The actor lifts a block (idempotent)',
    request: otherUser(),
    response: done(),
  },
  listBlocks: {
    description: "The actor's blocks, newest first",
    request: z.object({ actor: ActorSchema }),
    response: BlockPageSchema,
  },
  ban: {
    description: 'Ban a user from a group (owner/admin; idempotent): removes them and refuses to add them again until unbanned',
    request: userInRoom(),
    response: BanSchema,
  },
  unban: {
    description: 'Lift a ban (owner/admin; idempotent)',
    request: userInRoom(),
    response: done(),
  },
  listBans: {
    description: "A group's bans (owner/admin), newest first",
    request: z.object(inRoom),
    response: BanPageSchema,
  },
  authorize: {
    description: 'May this user do this in this room? Answers with the decision and the room facts behind it',
    request: z.object({ room_id: RoomIdSchema, user_id: UserIdSchema, roles: z.array(z.string()), action: RoomActionSchema }),
    response: z.object({
      allowed: z.boolean(),
      member: z.boolean(),
      role: RoleSchema.nullable(),
      kind: RoomKindSchema.nullable(),
      /** A closed room refuses writes (message.send) with conflict, not forbidden. */
      closed: z.boolean(),
      /** The member sees only events after this seq (joined history); 0 for the whole history. */
      visible_from_seq: SeqSchema,
    }),
  },
});
