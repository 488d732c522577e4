import { z } from 'zod';
import { ActorSchema } from '../auth/verifier.js';
import { pageSchema, RoomIdSchema, UserIdSchema } from '../contracts/common.js';
import { CreateRoomBodySchema, RoleSchema, RoomKindSchema, RoomSchema } from '../contracts/room.js';
import { defineEndpoint } from '../nats/endpoint.js';

const service = 'rooms';

/** What a caller wants to do in a room; the rooms domain holds the one rule set that decides. */
export const RoomActionSchema = z.enum(['room.read', 'message.send', 'message.moderate']);
export type RoomAction = z.infer<typeof RoomActionSchema>;

export const roomsRpc = {
  createRoom: defineEndpoint({
    service,
    name: 'create_room',
    description: 'Create a group room, or find-or-create the direct room of two users',
    request: z.object({ actor: ActorSchema, body: CreateRoomBodySchema }),
    response: z.object({ room: RoomSchema, created: z.boolean() }),
  }),
  getRoom: defineEndpoint({
    service,
    name: 'get_room',
    description: 'One room as the actor sees it; not_found when the actor is not a member',
    request: z.object({ actor: ActorSchema, room_id: RoomIdSchema }),
    response: RoomSchema,
  }),
  listRooms: defineEndpoint({
    service,
    name: 'list_rooms',
    description: "The actor's rooms, most recent activity first",
    request: z.object({
      actor: ActorSchema,
      archived: z.boolean().default(false),
      limit: z.number().int().min(1).max(100).default(50),
      cursor: z.string().max(200).optional(),
    }),
    response: pageSchema(RoomSchema),
  }),
  authorize: defineEndpoint({
    service,
    name: 'authorize',
    description: 'May this user do this in this room? Answers with the decision and the room facts behind it',
    request: z.object({ room_id: RoomIdSchema, user_id: UserIdSchema, roles: z.array(z.string()), action: RoomActionSchema }),
    response: z.object({
      allowed: z.boolean(),
      member: z.boolean(),
      role: RoleSchema.nullable(),
      kind: RoomKindSchema.nullable(),
    }),
  }),
} as const;
