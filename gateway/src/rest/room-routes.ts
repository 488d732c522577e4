import { ContextRefSchema, parseOrThrow } from '@chat/shared';
import type { ServicesClient } from '../clients/services-client.js';
import type { RestHandlers } from './mount.js';

/** The host object's type and id are checked together (the table documents them as strings). */
const contextOf = (params: { type: string; id: string }) => parseOrThrow(ContextRefSchema, params, 'context');

/** Rooms, membership, read state: the rooms service behind REST. */
export function roomHandlers(services: ServicesClient) {
  return {
    createRoom: async ({ actor, body }) => {
      const { room, created } = await services.createRoom(actor, body);
      return { status: created ? 201 : 200, body: room };
    },
    listRooms: async ({ actor, query }) => ({ status: 200, body: await services.listRooms(actor, query) }),
    getRoom: async ({ actor, params }) => ({ status: 200, body: await services.getRoom(actor, params.room_id) }),
    updateRoom: async ({ actor, params, body }) => ({
      status: 200,
      body: await services.updateRoom(actor, params.room_id, body),
    }),
    updateMembership: async ({ actor, params, body }) => ({
      status: 200,
      body: await services.updateMembership(actor, params.room_id, body),
    }),
    listMembers: async ({ actor, params, query }) => ({
      status: 200,
      body: await services.listMembers(actor, params.room_id, query),
    }),
    addMembers: async ({ actor, params, body }) => ({ status: 200, body: await services.addMembers(actor, params.room_id, body) }),
    changeRole: async ({ actor, params, body }) => ({
      status: 200,
      body: await services.changeRole(actor, params.room_id, params.user_id, body.role),
    }),
    removeMember: async ({ actor, params }) => {
      await services.removeMember(actor, params.room_id, params.user_id);
      return { status: 204 };
    },
    ensureContextRoom: async ({ actor, params, body }) => {
      const { room, created } = await services.ensureContextRoom(actor, contextOf(params), body);
      return { status: created ? 201 : 200, body: room };
    },
    closeContextRoom: async ({ actor, params }) => ({
      status: 200,
      body: await services.setContextRoomClosed(actor, contextOf(params), true),
    }),
    reopenContextRoom: async ({ actor, params }) => ({
      status: 200,
      body: await services.setContextRoomClosed(actor, contextOf(params), false),
    }),
    sendSystemMessage: async ({ actor, params, body }) => {
      const { message, created } = await services.sendSystemMessage(actor, contextOf(params), body);
      return { status: created ? 201 : 200, body: message };
    },
    markRead: async ({ actor, params, body }) => ({ status: 200, body: await services.markRead(actor, params.room_id, body.seq) }),
    blockUser: async ({ actor, params }) => ({ status: 200, body: await services.block(actor, params.user_id) }),
    unblockUser: async ({ actor, params }) => {
      await services.unblock(actor, params.user_id);
      return { status: 204 };
    },
    listBlocks: async ({ actor }) => ({ status: 200, body: await services.listBlocks(actor) }),
    banUser: async ({ actor, params }) => ({ status: 200, body: await services.ban(actor, params.room_id, params.user_id) }),
    unbanUser: async ({ actor, params }) => {
      await services.unban(actor, params.room_id, params.user_id);
      return { status: 204 };
    },
    listBans: async ({ actor, params }) => ({ status: 200, body: await services.listBans(actor, params.room_id) }),
    unreadSummary: async ({ actor }) => ({ status: 200, body: await services.unreadSummary(actor) }),
  } satisfies Partial<RestHandlers>;
}
