import { z } from 'zod';
import { DEFAULT_LIMITS, NamedUserSchema, pageSchema, RoomIdSchema, SeqSchema, TimestampSchema, UserIdSchema } from './common.js';
import { MessageSchema } from './message.js';

export const HistoryVisibilitySchema = z
  .enum(['shared', 'joined'])
  .describe('shared: members see the whole history; joined: each member sees only what followed their joining');
export type HistoryVisibility = z.infer<typeof HistoryVisibilitySchema>;
export const RoomKindSchema = z.enum(['direct', 'group', 'context']);
export type RoomKind = z.infer<typeof RoomKindSchema>;
export const RoleSchema = z.enum(['owner', 'admin', 'member']);
export type Role = z.infer<typeof RoleSchema>;
export const NotifyLevelSchema = z.enum(['all', 'mentions', 'none']);
export type NotifyLevel = z.infer<typeof NotifyLevelSchema>;

export const ContextRefSchema = z.object({
  type: z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, 'lower-case letters, digits, _ or -, at most 32'),
  id: z.string().min(1).max(128),
});
export type ContextRef = z.infer<typeof ContextRefSchema>;

/** The caller's own standing in a room. */
export const RoomMeSchema = z.object({
  role: RoleSchema,
  last_read_seq: SeqSchema,
  unread_count: z.number().int().nonnegative(),
  muted_until: TimestampSchema.nullable(),
  notify: NotifyLevelSchema,
  archived: z.boolean(),
  visible_from_seq: SeqSchema.describe(
    "Under joined history: the room's last seq when I joined; I see only events after it. 0 under shared history",
  ),
});
export type RoomMe = z.infer<typeof RoomMeSchema>;

export const RoomSchema = z.object({
  id: RoomIdSchema,
  kind: RoomKindSchema,
  title: z.string().nullable().describe("For a direct room: the other person's display name"),
  context: ContextRefSchema.nullable(),
  created_by: UserIdSchema,
  created_at: TimestampSchema,
  last_seq: SeqSchema,
  last_message: MessageSchema.nullable(),
  member_count: z.number().int().nonnegative(),
  closed_at: TimestampSchema.nullable().describe(
    'When the host application closed the object of a context room: sends, edits, reactions and acknowledgements answer 409 conflict; null while open',
  ),
  history_visibility: HistoryVisibilitySchema,
  me: RoomMeSchema,
});
export type Room = z.infer<typeof RoomSchema>;

const MemberIdsSchema = z
  .array(UserIdSchema)
  .max(DEFAULT_LIMITS.memberIdsPerRequest)
  .refine((ids) => new Set(ids).size === ids.length, 'member ids must not repeat');

export const CreateRoomBodySchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('direct'), user_id: UserIdSchema }),
  z.object({
    kind: z.literal('group'),
    title: z.string().trim().min(1).max(DEFAULT_LIMITS.roomTitleMaxChars),
    member_ids: MemberIdsSchema,
    history_visibility: HistoryVisibilitySchema.optional().describe('Default shared'),
  }),
]);
export type CreateRoomBody = z.infer<typeof CreateRoomBodySchema>;

/** A member, with the name they last presented in a token. */
export const MemberSchema = NamedUserSchema.extend({
  role: RoleSchema,
  last_read_seq: SeqSchema,
  joined_at: TimestampSchema,
});
export type Member = z.infer<typeof MemberSchema>;

export const RoomTitleSchema = z.string().trim().min(1).max(DEFAULT_LIMITS.roomTitleMaxChars);

/** PATCH /v1/rooms/{room_id}: rename, or set who sees the history (owner/admin; the service for context rooms). */
export const UpdateRoomBodySchema = z
  .object({ title: RoomTitleSchema.optional(), history_visibility: HistoryVisibilitySchema.optional() })
  .strict()
  .refine((body) => body.title !== undefined || body.history_visibility !== undefined, 'set title or history_visibility');
export type UpdateRoomBody = z.infer<typeof UpdateRoomBodySchema>;

export const AddMembersBodySchema = z.object({ member_ids: MemberIdsSchema.refine((ids) => ids.length > 0, 'name at least one member') });
export type AddMembersBody = z.infer<typeof AddMembersBodySchema>;

export const ChangeRoleBodySchema = z.object({ role: RoleSchema });

export const MembershipSettingsBodySchema = z
  .object({
    muted_until: TimestampSchema.nullable().optional(),
    notify: NotifyLevelSchema.optional(),
    archived: z.boolean().optional(),
  })
  .strict()
  .refine((body) => Object.keys(body).length > 0, 'set at least one of muted_until, notify, archived');
export type MembershipSettingsBody = z.infer<typeof MembershipSettingsBodySchema>;

export const ContextRoomBodySchema = z.object({
  title: RoomTitleSchema.optional(),
  member_ids: MemberIdsSchema,
  history_visibility: HistoryVisibilitySchema.optional().describe('Set when given; a new room defaults to shared'),
});
export type ContextRoomBody = z.infer<typeof ContextRoomBodySchema>;

export const ReadBodySchema = z.object({ seq: SeqSchema });

export const ReadStateSchema = z.object({
  room_id: z.uuid(),
  last_read_seq: SeqSchema,
  unread_count: z.number().int().nonnegative(),
});
export type ReadState = z.infer<typeof ReadStateSchema>;

/** How far a member has read, with the name they last presented in a token. */
export const ReceiptSchema = NamedUserSchema.extend({
  last_read_seq: SeqSchema,
});
export type Receipt = z.infer<typeof ReceiptSchema>;

export const BlockSchema = z.object({ user_id: UserIdSchema, blocked_at: TimestampSchema });
export type Block = z.infer<typeof BlockSchema>;
export const BlockPageSchema = pageSchema(BlockSchema);

export const BanSchema = z.object({ user_id: UserIdSchema, banned_by: UserIdSchema, banned_at: TimestampSchema });
export type Ban = z.infer<typeof BanSchema>;
export const BanPageSchema = pageSchema(BanSchema);

export const UnreadSummarySchema = z.object({
  total: z.number().int().nonnegative(),
  rooms: z.array(z.object({ room_id: RoomIdSchema, unread_count: z.number().int().positive() })),
});
export type UnreadSummary = z.infer<typeof UnreadSummarySchema>;

/** The list pages of the REST API, one instance each so the documents can name them. */
export const RoomPageSchema = pageSchema(RoomSchema);
export const MemberPageSchema = pageSchema(MemberSchema);
export const ReceiptPageSchema = pageSchema(ReceiptSchema);
