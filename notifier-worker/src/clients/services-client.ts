import type { RpcClient } from '@chat/shared/nats';
import { messagesRpc, roomsRpc } from '@chat/shared/rpc';
import type { PushSources } from '../jobs/ports.js';

/** The rooms and messages services' answers the push pipeline needs, over NATS. */
export function servicesClient(rpc: RpcClient): Omit<PushSources, 'presence'> {
  return {
    pushFacts: (roomId, userIds) => rpc.call(roomsRpc.pushFacts, { room_id: roomId, user_ids: userIds }),
    messageStates: async (roomId, ids) => (await rpc.call(messagesRpc.messageStates, { room_id: roomId, message_ids: ids })).messages,
    unreadTotal: async (userId) => (await rpc.call(roomsRpc.unreadSummary, { actor: { user_id: userId, name: null, roles: [] } })).total,
  };
}
