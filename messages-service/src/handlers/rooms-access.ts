import type { Actor } from '@chat/shared/auth';
import type { RpcClient } from '@chat/shared/nats';
import { type RoomAction, roomsRpc } from '@chat/shared/rpc';
import type { RoomAccess } from '../domain/messages.js';

/** Asks the rooms service, which owns membership and the rules, over NATS. */
export function roomAccessOverNats(rpc: RpcClient): RoomAccess {
  return {
    authorize: (roomId: string, actor: Actor, action: RoomAction) =>
      rpc.call(roomsRpc.authorize, { room_id: roomId, user_id: actor.user_id, roles: actor.roles, action }),
    roomIdsOf: async (userId: string) => (await rpc.call(roomsRpc.userRoomIds, { user_id: userId })).room_ids,
    nonMembers: async (roomId: string, userIds: string[]) =>
      userIds.length === 0 ? [] : (await rpc.call(roomsRpc.nonMembers, { room_id: roomId, user_ids: userIds })).user_ids,
  };
}
