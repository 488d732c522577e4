import type { CreateRoomBody, HistoryQuery, SendMessageBody } from '@chat/shared';
import type { Actor } from '@chat/shared/auth';
import type { RpcClient } from '@chat/shared/nats';
import { messagesRpc, roomsRpc } from '@chat/shared/rpc';

/** The services behind the gateway, as typed calls; every transport (socket, REST) goes through here. */
export class Upstream {
  constructor(private readonly rpc: RpcClient) {}

  createRoom(actor: Actor, body: CreateRoomBody) {
    return this.rpc.call(roomsRpc.createRoom, { actor, body });
  }

  getRoom(actor: Actor, roomId: string) {
    return this.rpc.call(roomsRpc.getRoom, { actor, room_id: roomId });
  }

  listRooms(actor: Actor, query: { archived?: boolean | undefined; limit?: number | undefined; cursor?: string | undefined }) {
    return this.rpc.call(roomsRpc.listRooms, { actor, ...query });
  }

  sendMessage(actor: Actor, roomId: string, message: SendMessageBody) {
    return this.rpc.call(messagesRpc.send, { actor, room_id: roomId, message });
  }

  history(actor: Actor, roomId: string, query: HistoryQuery) {
    return this.rpc.call(messagesRpc.history, { actor, room_id: roomId, query });
  }

  sync(actor: Actor, roomId: string, sinceSeq: number | undefined, maxEvents: number) {
    return this.rpc.call(messagesRpc.sync, { actor, room_id: roomId, since_seq: sinceSeq, max_events: maxEvents });
  }
}
