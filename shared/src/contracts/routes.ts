import { z } from 'zod';
import type { ErrorCode } from '../errors/index.js';
import { MessageIdSchema, RoomIdSchema, UserIdSchema } from './common.js';
import { DeviceSchema, DeviceTokenSchema, RegisterDeviceBodySchema } from './device.js';
import { EmojiSchema } from './frames.js';
import {
  AcknowledgementListSchema,
  AttachmentSchema,
  EditMessageBodySchema,
  MessagePageSchema,
  MessageSchema,
  SendMessageBodySchema,
  SystemMessageBodySchema,
} from './message.js';
import {
  CreateReportBodySchema,
  ListReportsQuerySchema,
  ModerationReportPageSchema,
  ReportSchema,
  UpdateReportBodySchema,
} from './report.js';
import { DownloadQuerySchema, HistoryHttpQuerySchema, ListMembersQuerySchema, ListRoomsQuerySchema, SearchQuerySchema } from './rest.js';
import {
  AddMembersBodySchema,
  BanPageSchema,
  BanSchema,
  BlockPageSchema,
  BlockSchema,
  ChangeRoleBodySchema,
  ContextRoomBodySchema,
  CreateRoomBodySchema,
  MemberPageSchema,
  MemberSchema,
  MembershipSettingsBodySchema,
  ReadBodySchema,
  ReadStateSchema,
  ReceiptPageSchema,
  RoomPageSchema,
  RoomSchema,
  UnreadSummarySchema,
  UpdateRoomBodySchema,
} from './room.js';

/**
 * The REST API of DESIGN.md section 5, written once. The gateway mounts its express routes from
 * this table (one handler per route id, a missing one is a type error), `docs/openapi.json` is
 * generated from it, and the SDK's REST client takes its types from it; a test compares the routes
 * express mounted with it. To add a route: add an entry here, its handler in the gateway, run
 * `pnpm docs` (docs/architecture.md, "Where to add a REST route").
 */

export type RestMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';
export type RestTag = 'rooms' | 'members' | 'messages' | 'moderation' | 'read state' | 'attachments' | 'devices';
/**
 * Who may call (every /v1 route needs a valid bearer token): `token`, any caller; `member`, a member
 * of the room the path names (anyone else gets 404, as if it did not exist; some actions further
 * need a role, as the summary says); `service`, tokens with the `service` role only.
 */
export type RestCaller = 'token' | 'member' | 'service';
/** Costly actions limited per user (DESIGN 10.1): a token is spent before the handler runs. */
export type RestRateLimit = 'upload' | 'room_create' | 'search' | 'device_register';

/**
 * Path parameters by name, the same schema wherever the name appears. `type` and `id` (a host
 * object) are checked together against `ContextRefSchema` by their handler.
 */
export const PATH_PARAMS = {
  room_id: RoomIdSchema,
  user_id: UserIdSchema,
  message_id: MessageIdSchema,
  attachment_id: z.uuid().describe('Attachment id (uuid)'),
  report_id: z.uuid().describe('Report id (uuid)'),
  emoji: EmojiSchema,
  token: DeviceTokenSchema,
  type: z.string(),
  id: z.string(),
} as const;
export type PathParamName = keyof typeof PATH_PARAMS;

/** A JSON body (with the noun its validation errors name), or one multipart file. */
export type RestBodySpec = { schema: z.ZodType; what: string } | 'multipart';
/** A JSON body by its schema, no content, or the bytes of a file. */
export type RestResponseSpec = z.ZodType | 'empty' | 'binary';

export interface RestRouteSpec {
  method: RestMethod;
  /** OpenAPI form: `{name}` for a path parameter (see PATH_PARAMS). */
  path: `/v1/${string}`;
  tag: RestTag;
  summary: string;
  caller: RestCaller;
  query?: z.ZodObject;
  body?: RestBodySpec;
  /** Success answers by status. */
  responses: Readonly<Record<number, RestResponseSpec>>;
  /** Error codes the route may answer (each a problem+json with its HTTP status). */
  errors: readonly ErrorCode[];
  rateLimit?: RestRateLimit;
}

/** The `{name}`s of a path, as a union of names. */
export type PathParamNames<P extends string> = P extends `${string}{${infer N}}${infer Rest}` ? N | PathParamNames<Rest> : never;
/** A path whose parameters all have a schema in PATH_PARAMS; otherwise a type error that names the others. */
type KnownPath<P extends string> = [Exclude<PathParamNames<P>, PathParamName>] extends [never]
  ? P
  : `no schema in PATH_PARAMS for ${Exclude<PathParamNames<P>, PathParamName>}`;

const table = <const T extends Record<string, RestRouteSpec>>(routes: T & { [K in keyof T]: { path: KnownPath<T[K]['path']> } }): T =>
  routes;

// Success answers, by what the route does.
const ok = <const S extends z.ZodType | 'binary'>(answer: S) => ({ 200: answer }) as const;
/** 201 when the call made the thing, 200 when it was already there (an idempotent retry, an existing direct room). */
const createdOrExisting = <const S extends z.ZodType>(schema: S) => ({ 200: schema, 201: schema }) as const;
const created = <const S extends z.ZodType>(schema: S) => ({ 201: schema }) as const;
const noContent = { 204: 'empty' } as const;

// Error codes, by the kind of route (the OpenAPI document lists them by HTTP status, whatever the order here).
const codes = <const C extends readonly ErrorCode[]>(...list: C) => list;
/** Any call with a token. */
const common = codes('unauthenticated', 'invalid', 'unavailable');
/** About a room (or a message in one) the caller must be a member of: anyone else gets not_found. */
const inRoom = codes(...common, 'not_found');
/** An action in a room that needs a role (owner/admin) or the service token. */
const inRoomByRole = codes(...inRoom, 'forbidden');
/** Outside any one room, for some tokens only (the service token, or a moderator's, as the route's caller and summary say). */
const byRole = codes(...common, 'forbidden');
/** The same, about one thing that may not exist (a host object's room, a report). */
const byRoleOrNotFound = codes(...common, 'forbidden', 'not_found');
/** A rate-limited action on a message in a room, which the message's state may refuse (conflict). */
const writeInRoom = codes(...inRoom, 'conflict', 'rate_limited');
/** A rate-limited write into a room, which the room's or message's state may refuse (conflict), as may the caller's standing (forbidden). */
const writeInRoomByRole = codes(...inRoom, 'forbidden', 'conflict', 'rate_limited');

export const restRoutes = table({
  createRoom: {
    method: 'post',
    path: '/v1/rooms',
    tag: 'rooms',
    summary: 'Create a group, or find-or-create a direct room (200 existing, 201 new)',
    caller: 'token',
    body: { schema: CreateRoomBodySchema, what: 'room' },
    responses: createdOrExisting(RoomSchema),
    errors: common,
    rateLimit: 'room_create',
  },
  listRooms: {
    method: 'get',
    path: '/v1/rooms',
    tag: 'rooms',
    summary: 'My rooms, most recent activity first, with last message and unread count',
    caller: 'token',
    query: ListRoomsQuerySchema,
    responses: ok(RoomPageSchema),
    errors: common,
  },
  getRoom: {
    method: 'get',
    path: '/v1/rooms/{room_id}',
    tag: 'rooms',
    summary: 'One room (404 for non-members)',
    caller: 'member',
    responses: ok(RoomSchema),
    errors: inRoom,
  },
  updateRoom: {
    method: 'patch',
    path: '/v1/rooms/{room_id}',
    tag: 'rooms',
    summary: 'Rename a room or set its history_visibility: groups by their owners/admins, context rooms by the service token',
    caller: 'member',
    body: { schema: UpdateRoomBodySchema, what: 'room' },
    responses: ok(RoomSchema),
    errors: inRoomByRole,
  },
  updateMembership: {
    method: 'patch',
    path: '/v1/rooms/{room_id}/membership',
    tag: 'rooms',
    summary: 'My settings in the room: muted_until, notify, archived',
    caller: 'member',
    body: { schema: MembershipSettingsBodySchema, what: 'membership' },
    responses: ok(RoomSchema),
    errors: inRoom,
  },
  listMembers: {
    method: 'get',
    path: '/v1/rooms/{room_id}/members',
    tag: 'members',
    summary: 'Members in join order',
    caller: 'member',
    query: ListMembersQuerySchema,
    responses: ok(MemberPageSchema),
    errors: inRoom,
  },
  addMembers: {
    method: 'post',
    path: '/v1/rooms/{room_id}/members',
    tag: 'members',
    summary: 'Add members to a group (owner/admin)',
    caller: 'member',
    body: { schema: AddMembersBodySchema, what: 'members' },
    responses: ok(MemberPageSchema),
    errors: inRoomByRole,
  },
  changeRole: {
    method: 'patch',
    path: '/v1/rooms/{room_id}/members/{user_id}',
    tag: 'members',
    summary: "Change a member's role (owner)",
    caller: 'member',
    body: { schema: ChangeRoleBodySchema, what: 'role' },
    responses: ok(MemberSchema),
    errors: inRoomByRole,
  },
  removeMember: {
    method: 'delete',
    path: '/v1/rooms/{room_id}/members/{user_id}',
    tag: 'members',
    summary: 'Remove a member (owner/admin) or leave (yourself)',
    caller: 'member',
    responses: noContent,
    errors: inRoomByRole,
  },
  ensureContextRoom: {
    method: 'put',
    path: '/v1/contexts/{type}/{id}/room',
    tag: 'rooms',
    summary: 'Service tokens: ensure the room of a host object with exactly these members (201 created, 200 after)',
    caller: 'service',
    body: { schema: ContextRoomBodySchema, what: 'context room' },
    responses: createdOrExisting(RoomSchema),
    errors: byRole,
  },
  closeContextRoom: {
    method: 'post',
    path: '/v1/contexts/{type}/{id}/close',
    tag: 'rooms',
    summary:
      'Service tokens: close the room of a host object (read-only: sends, edits, reactions and acknowledgements answer 409); idempotent',
    caller: 'service',
    responses: ok(RoomSchema),
    errors: byRoleOrNotFound,
  },
  reopenContextRoom: {
    method: 'post',
    path: '/v1/contexts/{type}/{id}/reopen',
    tag: 'rooms',
    summary: 'Service tokens: reopen the closed room of a host object; idempotent',
    caller: 'service',
    responses: ok(RoomSchema),
    errors: byRoleOrNotFound,
  },
  sendSystemMessage: {
    method: 'post',
    path: '/v1/contexts/{type}/{id}/messages',
    tag: 'messages',
    summary:
      "Service tokens: post a system message (kind `system`, sender = the token's sub and name) into a host object's room; " +
      '201 new, 200 with the first message for a repeated client_msg_id; 404 when the object has no room, 409 when it is closed',
    caller: 'service',
    body: { schema: SystemMessageBodySchema, what: 'message' },
    responses: createdOrExisting(MessageSchema),
    errors: writeInRoomByRole,
  },
  history: {
    method: 'get',
    path: '/v1/rooms/{room_id}/messages',
    tag: 'messages',
    summary: 'History, oldest first within a page; with neither bound, the newest page',
    caller: 'member',
    query: HistoryHttpQuerySchema,
    responses: ok(MessagePageSchema),
    errors: inRoom,
  },
  sendMessage: {
    method: 'post',
    path: '/v1/rooms/{room_id}/messages',
    tag: 'messages',
    summary:
      'Send (201 new; 200 with the first message for a repeated client_msg_id); `priority: urgent` and `ack_requested` need a room owner/admin or a staff, moderator or service token (403 otherwise)',
    caller: 'member',
    body: { schema: SendMessageBodySchema, what: 'message' },
    responses: createdOrExisting(MessageSchema),
    errors: writeInRoomByRole,
  },
  editMessage: {
    method: 'patch',
    path: '/v1/rooms/{room_id}/messages/{message_id}',
    tag: 'messages',
    summary: 'Edit (sender only, not after delete)',
    caller: 'member',
    body: { schema: EditMessageBodySchema, what: 'message' },
    responses: ok(MessageSchema),
    errors: writeInRoomByRole,
  },
  deleteMessage: {
    method: 'delete',
    path: '/v1/rooms/{room_id}/messages/{message_id}',
    tag: 'messages',
    summary: 'Soft delete (sender, room owner/admin, moderator)',
    caller: 'member',
    responses: ok(MessageSchema),
    errors: [...inRoom, 'forbidden', 'rate_limited'],
  },
  addReaction: {
    method: 'put',
    path: '/v1/rooms/{room_id}/messages/{message_id}/reactions/{emoji}',
    tag: 'messages',
    summary: 'React',
    caller: 'member',
    responses: ok(MessageSchema),
    errors: writeInRoom,
  },
  removeReaction: {
    method: 'delete',
    path: '/v1/rooms/{room_id}/messages/{message_id}/reactions/{emoji}',
    tag: 'messages',
    summary: 'Remove my reaction',
    caller: 'member',
    responses: ok(MessageSchema),
    errors: [...inRoom, 'rate_limited'],
  },
  acknowledge: {
    method: 'post',
    path: '/v1/rooms/{room_id}/messages/{message_id}/acknowledgement',
    tag: 'messages',
    summary:
      'Acknowledge a message that asked for it (idempotent: a repeat returns the same message and adds no event); 409 for a message without ack_requested or for its sender',
    caller: 'member',
    responses: ok(MessageSchema),
    errors: writeInRoom,
  },
  acknowledgements: {
    method: 'get',
    path: '/v1/rooms/{room_id}/messages/{message_id}/acknowledgements',
    tag: 'messages',
    summary:
      "Who acknowledged the message, and `pending`: the room's members at send time, less the sender, who have not (both empty for a message without ack_requested)",
    caller: 'member',
    responses: ok(AcknowledgementListSchema),
    errors: inRoom,
  },
  reportMessage: {
    method: 'post',
    path: '/v1/rooms/{room_id}/messages/{message_id}/reports',
    tag: 'moderation',
    summary:
      "Report a message to the moderators (201; the same reporter again: 200 with the same report); reporting one's own message is 422, a deleted one 409",
    caller: 'member',
    body: { schema: CreateReportBodySchema, what: 'report' },
    responses: createdOrExisting(ReportSchema),
    errors: writeInRoom,
  },
  listReports: {
    method: 'get',
    path: '/v1/reports',
    tag: 'moderation',
    summary: 'Moderator and service tokens: reports by status (default open), oldest first, each with a snapshot of its message',
    caller: 'token',
    query: ListReportsQuerySchema,
    responses: ok(ModerationReportPageSchema),
    errors: byRole,
  },
  updateReport: {
    method: 'patch',
    path: '/v1/reports/{report_id}',
    tag: 'moderation',
    summary: 'Moderator and service tokens: resolve or dismiss a report (a closed report may be set again)',
    caller: 'token',
    body: { schema: UpdateReportBodySchema, what: 'report' },
    responses: ok(ReportSchema),
    errors: byRoleOrNotFound,
  },
  markRead: {
    method: 'post',
    path: '/v1/rooms/{room_id}/read',
    tag: 'read state',
    summary: 'Mark read up to seq (never moves backwards); answers the absolute unread count',
    caller: 'member',
    body: { schema: ReadBodySchema, what: 'read' },
    responses: ok(ReadStateSchema),
    errors: inRoom,
  },
  receipts: {
    method: 'get',
    path: '/v1/rooms/{room_id}/messages/{message_id}/receipts',
    tag: 'read state',
    summary: 'Who has read the message',
    caller: 'member',
    responses: ok(ReceiptPageSchema),
    errors: inRoom,
  },
  unreadSummary: {
    method: 'get',
    path: '/v1/me/unread',
    tag: 'read state',
    summary: 'Unread total and per room: the app badge',
    caller: 'token',
    responses: ok(UnreadSummarySchema),
    errors: common,
  },
  blockUser: {
    method: 'put',
    path: '/v1/me/blocks/{user_id}',
    tag: 'members',
    summary:
      'Block a user (idempotent): they cannot open a direct room with me nor send into ours (403), and nothing they send is pushed to me; blocking yourself is 422',
    caller: 'token',
    responses: ok(BlockSchema),
    errors: common,
  },
  unblockUser: {
    method: 'delete',
    path: '/v1/me/blocks/{user_id}',
    tag: 'members',
    summary: 'Lift a block (idempotent)',
    caller: 'token',
    responses: noContent,
    errors: common,
  },
  listBlocks: {
    method: 'get',
    path: '/v1/me/blocks',
    tag: 'members',
    summary: 'The users I blocked, newest first (clients hide their messages in groups)',
    caller: 'token',
    responses: ok(BlockPageSchema),
    errors: common,
  },
  banUser: {
    method: 'put',
    path: '/v1/rooms/{room_id}/bans/{user_id}',
    tag: 'members',
    summary:
      'Ban a user from a group (owner/admin; idempotent): removes them (member.removed); adding them again is 409 until unbanned; an owner cannot be banned (422)',
    caller: 'member',
    responses: ok(BanSchema),
    errors: inRoomByRole,
  },
  unbanUser: {
    method: 'delete',
    path: '/v1/rooms/{room_id}/bans/{user_id}',
    tag: 'members',
    summary: 'Lift a ban (owner/admin; idempotent)',
    caller: 'member',
    responses: noContent,
    errors: inRoomByRole,
  },
  listBans: {
    method: 'get',
    path: '/v1/rooms/{room_id}/bans',
    tag: 'members',
    summary: "A group's bans (owner/admin), newest first",
    caller: 'member',
    responses: ok(BanPageSchema),
    errors: inRoomByRole,
  },
  uploadAttachment: {
    method: 'post',
    path: '/v1/rooms/{room_id}/attachments',
    tag: 'attachments',
    summary: 'Upload one file (multipart part "file"); type and size are checked on the bytes',
    caller: 'member',
    body: 'multipart',
    responses: created(AttachmentSchema),
    errors: [...inRoom, 'forbidden', 'too_large'],
    rateLimit: 'upload',
  },
  downloadAttachment: {
    method: 'get',
    path: '/v1/attachments/{attachment_id}',
    tag: 'attachments',
    summary: "Download (members of its room only); `?size=thumb` gives an image's thumbnail",
    caller: 'member',
    query: DownloadQuerySchema,
    responses: ok('binary'),
    errors: inRoom,
  },
  searchMessages: {
    method: 'get',
    path: '/v1/search/messages',
    tag: 'messages',
    summary: 'Full-text and partial-word search over my rooms, newest first',
    caller: 'token',
    query: SearchQuerySchema,
    responses: ok(MessagePageSchema),
    errors: inRoom,
    rateLimit: 'search',
  },
  registerDevice: {
    method: 'put',
    path: '/v1/devices/{token}',
    tag: 'devices',
    summary: 'Register a push target (201 new, 200 again); a token moves to its latest user',
    caller: 'token',
    body: { schema: RegisterDeviceBodySchema, what: 'device' },
    responses: createdOrExisting(DeviceSchema),
    errors: common,
    rateLimit: 'device_register',
  },
  unregisterDevice: {
    method: 'delete',
    path: '/v1/devices/{token}',
    tag: 'devices',
    summary: 'Remove one of my push targets',
    caller: 'token',
    responses: noContent,
    errors: codes(...common, 'not_found'),
  },
});

export type RestRoutes = typeof restRoutes;
export type RestRouteId = keyof RestRoutes;

/** The table's routes in order, each seen as a plain RestRouteSpec (for the code that walks them all). */
export const restRouteList: ReadonlyArray<readonly [RestRouteId, RestRouteSpec]> = Object.entries(restRoutes) as Array<
  [RestRouteId, RestRouteSpec]
>;

/** The names of a path's parameters, in the order they appear. */
export function pathParamNames(path: string): PathParamName[] {
  return [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as PathParamName);
}

type ParamsOf<P extends string> = { [N in PathParamNames<P> & PathParamName]: z.output<(typeof PATH_PARAMS)[N]> };
type Responses<K extends RestRouteId> = RestRoutes[K]['responses'];

/** A route's parsed path parameters. */
export type RestParams<K extends RestRouteId> = ParamsOf<RestRoutes[K]['path']>;
/** What a client puts in a route's path, by parameter name. */
export type RestPathInput<K extends RestRouteId> = { [N in PathParamNames<RestRoutes[K]['path']>]: string };
/** A route's parsed query (undefined when it takes none). */
export type RestQuery<K extends RestRouteId> = RestRoutes[K] extends { query: infer Q extends z.ZodType } ? z.output<Q> : undefined;
/** What a client may send as a route's query. */
export type RestQueryInput<K extends RestRouteId> = RestRoutes[K] extends { query: infer Q extends z.ZodType } ? z.input<Q> : undefined;
/** A route's parsed JSON body (undefined when it takes none or a multipart file). */
export type RestBody<K extends RestRouteId> = RestRoutes[K] extends { body: { schema: infer B extends z.ZodType } }
  ? z.output<B>
  : undefined;
/** What a client sends as a route's JSON body. */
export type RestBodyInput<K extends RestRouteId> = RestRoutes[K] extends { body: { schema: infer B extends z.ZodType } }
  ? z.input<B>
  : undefined;

/** A handler's answer: a status of the route's table entry with its body (or none, or streamed bytes). */
export type RestReply<K extends RestRouteId> = {
  [S in keyof Responses<K>]: Responses<K>[S] extends z.ZodType
    ? { status: S; body: z.output<Responses<K>[S]> }
    : Responses<K>[S] extends 'empty'
      ? { status: S }
      : { status: S; streamed: true };
}[keyof Responses<K>];

/** What a client receives from a route on success (undefined for no content or bytes). */
export type RestResult<K extends RestRouteId> = {
  [S in keyof Responses<K>]: Responses<K>[S] extends z.ZodType ? z.output<Responses<K>[S]> : undefined;
}[keyof Responses<K>];

/** `METHOD /path` of a route, as the SDK names it. */
export type RestRouteLine<K extends RestRouteId> = `${Uppercase<RestRoutes[K]['method']>} ${RestRoutes[K]['path']}`;
