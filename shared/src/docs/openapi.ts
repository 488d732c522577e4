import type { z } from 'zod';
import { RoomIdSchema, UserIdSchema } from '../contracts/common.js';
import { DeviceTokenSchema } from '../contracts/device.js';
import { EmojiSchema } from '../contracts/frames.js';
import { HistoryHttpQuerySchema, ListMembersQuerySchema, ListRoomsQuerySchema, SearchQuerySchema } from '../contracts/rest.js';
import { type ErrorCode, HTTP_STATUS_BY_CODE } from '../errors/index.js';
import { inlineJsonSchema, namedJsonSchemas, publicSchemas } from './schemas.js';

type SchemaName = keyof typeof publicSchemas;

interface Operation {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  summary: string;
  tag: string;
  body?: SchemaName | 'multipart';
  query?: z.ZodObject;
  responses: Record<number, SchemaName | 'empty' | 'binary'>;
  errors: ErrorCode[];
  description?: string;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const common: ErrorCode[] = ['unauthenticated', 'invalid', 'unavailable'];
const inRoom: ErrorCode[] = [...common, 'not_found'];

/** Every REST operation of DESIGN.md section 5, described once for the document. */
const operations: Operation[] = [
  {
    method: 'post',
    path: '/v1/rooms',
    tag: 'rooms',
    summary: 'Create a group, or find-or-create a direct room (200 existing, 201 new)',
    body: 'CreateRoomBody',
    responses: { 200: 'Room', 201: 'Room' },
    errors: common,
  },
  {
    method: 'get',
    path: '/v1/rooms',
    tag: 'rooms',
    summary: 'My rooms, most recent activity first, with last message and unread count',
    query: ListRoomsQuerySchema,
    responses: { 200: 'RoomPage' },
    errors: common,
  },
  {
    method: 'get',
    path: '/v1/rooms/{room_id}',
    tag: 'rooms',
    summary: 'One room (404 for non-members)',
    responses: { 200: 'Room' },
    errors: inRoom,
  },
  {
    method: 'patch',
    path: '/v1/rooms/{room_id}',
    tag: 'rooms',
    summary: 'Rename a group (owner/admin) or a context room (service token)',
    body: 'RenameRoomBody',
    responses: { 200: 'Room' },
    errors: [...inRoom, 'forbidden'],
  },
  {
    method: 'patch',
    path: '/v1/rooms/{room_id}/membership',
    tag: 'rooms',
    summary: 'My settings in the room: muted_until, notify, archived',
    body: 'MembershipSettingsBody',
    responses: { 200: 'Room' },
    errors: inRoom,
  },
  {
    method: 'get',
    path: '/v1/rooms/{room_id}/members',
    tag: 'members',
    summary: 'Members in join order',
    query: ListMembersQuerySchema,
    responses: { 200: 'MemberPage' },
    errors: inRoom,
  },
  {
    method: 'post',
    path: '/v1/rooms/{room_id}/members',
    tag: 'members',
    summary: 'Add members to a group (owner/admin)',
    body: 'AddMembersBody',
    responses: { 200: 'MemberPage' },
    errors: [...inRoom, 'forbidden'],
  },
  {
    method: 'patch',
    path: '/v1/rooms/{room_id}/members/{user_id}',
    tag: 'members',
    summary: "Change a member's role (owner)",
    body: 'ChangeRoleBody',
    responses: { 200: 'Member' },
    errors: [...inRoom, 'forbidden'],
  },
  {
    method: 'delete',
    path: '/v1/rooms/{room_id}/members/{user_id}',
    tag: 'members',
    summary: 'Remove a member (owner/admin) or leave (yourself)',
    responses: { 204: 'empty' },
    errors: [...inRoom, 'forbidden'],
  },
  {
    method: 'put',
    path: '/v1/contexts/{type}/{id}/room',
    tag: 'rooms',
    summary: 'Service tokens: ensure the room of a host object with exactly these members (201 created, 200 after)',
    body: 'ContextRoomBody',
    responses: { 200: 'Room', 201: 'Room' },
    errors: [...common, 'forbidden'],
  },
  {
    method: 'get',
    path: '/v1/rooms/{room_id}/messages',
    tag: 'messages',
    summary: 'History, oldest first within a page; with neither bound, the newest page',
    query: HistoryHttpQuerySchema,
    responses: { 200: 'MessagePage' },
    errors: inRoom,
  },
  {
    method: 'post',
    path: '/v1/rooms/{room_id}/messages',
    tag: 'messages',
    summary: 'Send (201 new; 200 with the first message for a repeated client_msg_id)',
    body: 'SendMessageBody',
    responses: { 200: 'Message', 201: 'Message' },
    errors: [...inRoom, 'conflict', 'rate_limited'],
  },
  {
    method: 'patch',
    path: '/v1/rooms/{room_id}/messages/{message_id}',
    tag: 'messages',
    summary: 'Edit (sender only, not after delete)',
    body: 'EditMessageBody',
    responses: { 200: 'Message' },
    errors: [...inRoom, 'forbidden', 'conflict', 'rate_limited'],
  },
  {
    method: 'delete',
    path: '/v1/rooms/{room_id}/messages/{message_id}',
    tag: 'messages',
    summary: 'Soft delete (sender, room owner/admin, moderator)',
    responses: { 200: 'Message' },
    errors: [...inRoom, 'forbidden', 'rate_limited'],
  },
  {
    method: 'put',
    path: '/v1/rooms/{room_id}/messages/{message_id}/reactions/{emoji}',
    tag: 'messages',
    summary: 'React',
    responses: { 200: 'Message' },
    errors: [...inRoom, 'conflict', 'rate_limited'],
  },
  {
    method: 'delete',
    path: '/v1/rooms/{room_id}/messages/{message_id}/reactions/{emoji}',
    tag: 'messages',
    summary: 'Remove my reaction',
    responses: { 200: 'Message' },
    errors: [...inRoom, 'rate_limited'],
  },
  {
    method: 'post',
    path: '/v1/rooms/{room_id}/read',
    tag: 'read state',
    summary: 'Mark read up to seq (never moves backwards); answers the absolute unread count',
    body: 'ReadBody',
    responses: { 200: 'ReadState' },
    errors: inRoom,
  },
  {
    method: 'get',
    path: '/v1/rooms/{room_id}/messages/{message_id}/receipts',
    tag: 'read state',
    summary: 'Who has read the message',
    responses: { 200: 'ReceiptPage' },
    errors: inRoom,
  },
  {
    method: 'get',
    path: '/v1/me/unread',
    tag: 'read state',
    summary: 'Unread total and per room: the app badge',
    responses: { 200: 'UnreadSummary' },
    errors: common,
  },
  {
    method: 'post',
    path: '/v1/rooms/{room_id}/attachments',
    tag: 'attachments',
    summary: 'Upload one file (multipart part "file"); type and size are checked on the bytes',
    body: 'multipart',
    responses: { 201: 'Attachment' },
    errors: [...inRoom, 'forbidden', 'too_large'],
  },
  {
    method: 'get',
    path: '/v1/attachments/{attachment_id}',
    tag: 'attachments',
    summary: 'Download (members of its room only)',
    responses: { 200: 'binary' },
    errors: inRoom,
  },
  {
    method: 'get',
    path: '/v1/search/messages',
    tag: 'messages',
    summary: 'Full-text and partial-word search over my rooms, newest first',
    query: SearchQuerySchema,
    responses: { 200: 'MessagePage' },
    errors: inRoom,
  },
  {
    method: 'put',
    path: '/v1/devices/{token}',
    tag: 'devices',
    summary: 'Register a push target (201 new, 200 again); a token moves to its latest user',
    body: 'RegisterDeviceBody',
    responses: { 200: 'Device', 201: 'Device' },
    errors: common,
  },
  {
    method: 'delete',
    path: '/v1/devices/{token}',
    tag: 'devices',
    summary: 'Remove one of my push targets',
    responses: { 204: 'empty' },
    errors: inRoom,
  },
];

const pathParameters: Record<string, z.ZodType> = {
  room_id: RoomIdSchema,
  user_id: UserIdSchema,
  message_id: RoomIdSchema,
  attachment_id: RoomIdSchema,
  emoji: EmojiSchema,
  token: DeviceTokenSchema,
};

function parameters(operation: Operation) {
  const inPath = [...operation.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string);
  const params: Array<Record<string, unknown>> = inPath.map((name) => ({
    name,
    in: 'path',
    required: true,
    schema: pathParameters[name] ? inlineJsonSchema(pathParameters[name] as z.ZodType) : { type: 'string' },
  }));
  if (operation.query) {
    for (const [name, schema] of Object.entries(operation.query.shape)) {
      params.push({
        name,
        in: 'query',
        required: !(schema as z.ZodType).safeParse(undefined).success,
        schema: inlineJsonSchema(schema as z.ZodType),
      });
    }
  }
  return params;
}

function responses(operation: Operation) {
  const out: Record<string, unknown> = {};
  for (const [status, body] of Object.entries(operation.responses)) {
    if (body === 'empty') out[status] = { description: 'No content' };
    else if (body === 'binary')
      out[status] = {
        description: 'The file',
        content: { 'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } },
      };
    else out[status] = { description: body, content: { 'application/json': { schema: ref(body) } } };
  }
  for (const code of new Set(operation.errors)) {
    const status = String(HTTP_STATUS_BY_CODE[code]);
    const existing = out[status] as { description: string } | undefined;
    out[status] = {
      description: existing ? `${existing.description}, ${code}` : code,
      content: { 'application/problem+json': { schema: ref('Problem') } },
    };
  }
  return out;
}

/** The OpenAPI 3.1 document of the REST API, generated from the zod contracts. */
export function buildOpenApi(version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const operation of operations) {
    const entry = paths[operation.path] ?? {};
    paths[operation.path] = entry;
    entry[operation.method] = {
      operationId: `${operation.method}${operation.path
        .replace(/[{}]/g, '')
        .replace(/\/(\w)/g, (_, c: string) => c.toUpperCase())
        .replace(/[^A-Za-z0-9]/g, '')}`,
      summary: operation.summary,
      tags: [operation.tag],
      parameters: parameters(operation),
      ...(operation.body === 'multipart'
        ? {
            requestBody: {
              required: true,
              content: {
                'multipart/form-data': {
                  schema: {
                    type: 'object',
                    required: ['file'],
                    properties: { file: { type: 'string', contentMediaType: 'application/octet-stream' } },
                  },
                },
              },
            },
          }
        : operation.body
          ? { requestBody: { required: true, content: { 'application/json': { schema: ref(operation.body) } } } }
          : {}),
      responses: responses(operation),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Chat backend REST API',
      version,
      description:
        'JSON in and out; `Authorization: Bearer <jwt>` on every /v1 route. Errors are RFC 9457 problem details with a stable `code`. ' +
        'A room the caller is not a member of answers 404. Lists are `{items, next_cursor}`. The socket protocol is in asyncapi-socket.json.',
    },
    servers: [{ url: 'http://localhost:8080', description: 'GATEWAY_HTTP_PORT of a local stack' }],
    security: [{ bearer: [] }],
    tags: ['rooms', 'members', 'messages', 'read state', 'attachments', 'devices'].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: namedJsonSchemas(publicSchemas, '#/components/schemas/', 'draft-2020-12'),
    },
  };
}
