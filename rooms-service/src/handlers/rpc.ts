import { handle } from '@chat/shared/nats';
import { roomsRpc } from '@chat/shared/rpc';
import type { BlocksDomain } from '../domain/blocks.js';
import type { MembershipDomain } from '../domain/membership.js';
import type { ReadStateDomain } from '../domain/read-state.js';
import type { RoomsDomain } from '../domain/rooms.js';

export interface RoomsDomains {
  rooms: RoomsDomain;
  membership: MembershipDomain;
  readState: ReadStateDomain;
  blocks: BlocksDomain;
}

/** NATS endpoints of the rooms service: parse (done by serveEndpoints), call the domain, answer. */
export function roomsEndpoints({ rooms, membership, readState, blocks }: RoomsDomains) {
  return [
    handle(roomsRpc.block, (req) => blocks.block(req.actor, req.user_id)),
    handle(roomsRpc.unblock, async (req) => {
      await blocks.unblock(req.actor, req.user_id);
      return {};
    }),
    handle(roomsRpc.listBlocks, (req) => blocks.list(req.actor)),
    handle(roomsRpc.ban, (req) => membership.ban(req.actor, req.room_id, req.user_id)),
    handle(roomsRpc.unban, async (req) => {
      await membership.unban(req.actor, req.room_id, req.user_id);
      return {};
    }),
    handle(roomsRpc.listBans, (req) => membership.listBans(req.actor, req.room_id)),
    handle(roomsRpc.createRoom, (req) => rooms.createRoom(req.actor, req.body)),
    handle(roomsRpc.ensureContextRoom, (req) => membership.ensureContextRoom(req.actor, req.context, req.body)),
    handle(roomsRpc.setContextRoomClosed, (req) => membership.setContextRoomClosed(req.actor, req.context, req.closed)),
    handle(roomsRpc.contextRoom, (req) => membership.contextRoom(req.actor, req.context)),
    handle(roomsRpc.getRoom, (req) => rooms.getRoom(req.actor, req.room_id)),
    handle(roomsRpc.listRooms, (req) => rooms.listRooms(req.actor, req)),
    handle(roomsRpc.updateRoom, (req) => membership.update(req.actor, req.room_id, req.changes)),
    handle(roomsRpc.updateMembership, (req) => membership.updateSettings(req.actor, req.room_id, req.settings)),
    handle(roomsRpc.listMembers, (req) => membership.list(req.actor, req.room_id, req.limit, req.cursor)),
    handle(roomsRpc.addMembers, (req) => membership.add(req.actor, req.room_id, req.body)),
    handle(roomsRpc.changeRole, (req) => membership.changeRole(req.actor, req.room_id, req.user_id, req.role)),
    handle(roomsRpc.removeMember, async (req) => {
      await membership.remove(req.actor, req.room_id, req.user_id);
      return {};
    }),
    handle(roomsRpc.markRead, (req) => readState.markRead(req.actor, req.room_id, req.seq)),
    handle(roomsRpc.receipts, (req) => readState.receipts(req.actor, req.room_id, req.seq, req.sender_id)),
    handle(roomsRpc.unreadSummary, (req) => readState.unreadSummary(req.actor)),
    handle(roomsRpc.userRoomIds, async (req) => {
      const byUser = await rooms.roomIdsOf(req.user_ids, req.max_members);
      return {
        users: [...byUser].map(([user_id, rooms]) => {
          const restricted = rooms.filter((r) => r.visible_from_seq > 0);
          return {
            user_id,
            room_ids: rooms.map((r) => r.room_id),
            ...(restricted.length ? { visible_from: Object.fromEntries(restricted.map((r) => [r.room_id, r.visible_from_seq])) } : {}),
          };
        }),
      };
    }),
    handle(roomsRpc.roomMembers, (req) => rooms.memberIds(req.room_id, req.max_members)),
    handle(roomsRpc.rememberUsers, async (req) => {
      await rooms.rememberActors(req.actors);
      return {};
    }),
    handle(roomsRpc.pushFacts, (req) => rooms.pushFacts(req.room_id, req.user_ids, req.paged ? { after: req.after } : undefined)),
    handle(roomsRpc.nonMembers, async (req) => ({ user_ids: await rooms.nonMembers(req.room_id, req.user_ids) })),
    handle(roomsRpc.authorize, (req) => rooms.authorize(req)),
  ];
}
