import { handle } from '@chat/shared/nats';
import { roomsRpc } from '@chat/shared/rpc';
import type { RoomsDomain } from '../domain/rooms.js';

/** NATS endpoints of the rooms service: parse (done by serveEndpoints), call the domain, answer. */
export function roomsEndpoints(domain: RoomsDomain) {
  return [
    handle(roomsRpc.createRoom, (req) => domain.createRoom(req.actor, req.body)),
    handle(roomsRpc.getRoom, (req) => domain.getRoom(req.actor, req.room_id)),
    handle(roomsRpc.listRooms, (req) => domain.listRooms(req.actor, req)),
    handle(roomsRpc.authorize, (req) => domain.authorize(req)),
  ];
}
