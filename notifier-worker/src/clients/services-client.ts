import { ChatError } from '@chat/shared';
import type { ResponseOf, RpcClient } from '@chat/shared/nats';
import { messagesRpc, roomsRpc } from '@chat/shared/rpc';
import type { PushSources } from '../jobs/ports.js';

/** User ids asked for in one request: 2,000 of at most 128 characters stay far inside NATS's 1 MB. */
const PUSH_FACTS_IDS_PER_REQUEST = 2000;

/** Far more pages than any room's members take (a group holds at most 10,000: about ten pages). */
const MAX_PAGES_PER_REQUEST = 1000;

type PushFacts = ResponseOf<typeof roomsRpc.pushFacts>;

/** The rooms and messages services' answers the push pipeline needs, over NATS. */
export function servicesClient(rpc: RpcClient): Omit<PushSources, 'presence'> {
  return {
    pushFacts: (roomId, userIds) => allPushFacts(rpc, roomId, userIds),
    messageStates: async (roomId, ids) => (await rpc.call(messagesRpc.messageStates, { room_id: roomId, message_ids: ids })).messages,
    unreadTotal: async (userId) => (await rpc.call(roomsRpc.unreadSummary, { actor: { user_id: userId, name: null, roles: [] } })).total,
  };
}

/**
 * A room's push facts for the given users (all members without), whatever the room's size: the
 * rooms service answers in pages that fit one NATS message, and the ids asked for go in chunks.
 * Members are kept by user id: while old and new rooms replicas serve side by side, an old one
 * answers a later page with every member (it does not page), and a member must count once.
 */
async function allPushFacts(rpc: RpcClient, roomId: string, userIds: string[] | undefined): Promise<PushFacts> {
  const chunks: Array<string[] | undefined> = [];
  if (!userIds || userIds.length === 0) chunks.push(userIds);
  else for (let i = 0; i < userIds.length; i += PUSH_FACTS_IDS_PER_REQUEST) chunks.push(userIds.slice(i, i + PUSH_FACTS_IDS_PER_REQUEST));
  let room: PushFacts['room'] = null;
  const members = new Map<string, PushFacts['members'][number]>();
  for (const ids of chunks) {
    let after: string | undefined;
    for (let pages = 1; ; pages++) {
      const page = await rpc.call(roomsRpc.pushFacts, {
        room_id: roomId,
        user_ids: ids,
        paged: true,
        ...(after === undefined ? {} : { after }),
      });
      room = page.room;
      if (!room) return { room: null, members: [] };
      for (const member of page.members) members.set(member.user_id, member);
      const next = page.next_after ?? undefined;
      if (next === undefined) break;
      // Pages move forward by user id (in Postgres's collation, so only "no move" is checked here);
      // one that does not, or no end in sight, must not be asked for forever.
      if (next === after || pages >= MAX_PAGES_PER_REQUEST) {
        throw new ChatError('internal', `rooms.push_facts did not page on from ${after ?? 'the start'} (page ${pages})`);
      }
      after = next;
    }
  }
  return { room, members: [...members.values()] };
}
