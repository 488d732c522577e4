import { ChatError, type CreateRoomBody, decodeTimeIdCursor, encodeTimeIdCursor, type Page, type Room } from '@chat/shared';
import type { Actor } from '@chat/shared/auth';
import { type RoomAction, RPC_ANSWER_BUDGET_CHARS } from '@chat/shared/rpc';
import { directRoomKey } from './direct-key.js';
import { isAllowed } from './policy.js';
import type { RoomsStore } from './ports.js';
import { PUSH_FACTS_ROWS, pushFactsPage } from './push-facts-page.js';
import { toRoom } from './room-view.js';

export interface RoomsDomainOptions {
  groupMaxMembers: number;
}

/** Room use cases: each validates its rules, then reads or writes through the repository. */
export class RoomsDomain {
  /** Names already written, so a busy user does not cost a write per request. */
  private readonly knownNames = new Map<string, string | null>();

  constructor(
    private readonly store: RoomsStore,
    private readonly options: RoomsDomainOptions,
  ) {}

  async createRoom(actor: Actor, body: CreateRoomBody): Promise<{ room: Room; created: boolean }> {
    await this.rememberActor(actor);
    if (body.kind === 'direct') {
      if (body.user_id === actor.user_id) {
        throw ChatError.invalid('a direct room needs another user', [{ path: 'user_id', message: 'must not be yourself' }]);
      }
      // A user the other has blocked cannot open (or reopen) a direct room with them.
      if (await this.store.isBlockedBy(body.user_id, actor.user_id))
        throw ChatError.forbidden('this user does not accept direct messages from you');
      const { roomId, created } = await this.store.ensureDirectRoom(
        directRoomKey(actor.user_id, body.user_id),
        actor.user_id,
        body.user_id,
      );
      return { room: await this.getRoom(actor, roomId), created };
    }
    const others = body.member_ids.filter((id) => id !== actor.user_id);
    if (others.length + 1 > this.options.groupMaxMembers) {
      throw ChatError.invalid(`a group holds at most ${this.options.groupMaxMembers} members`, [
        { path: 'member_ids', message: 'too many members' },
      ]);
    }
    const roomId = await this.store.insertGroupRoom(actor.user_id, body.title, others, body.history_visibility);
    return { room: await this.getRoom(actor, roomId), created: true };
  }

  /** A room the actor is not a member of does not exist for them. */
  async getRoom(actor: Actor, roomId: string): Promise<Room> {
    const row = await this.store.findRoomView(roomId, actor.user_id);
    if (!row) throw ChatError.notFound('room');
    return toRoom(row);
  }

  async listRooms(actor: Actor, query: { archived: boolean; limit: number; cursor?: string | undefined }): Promise<Page<Room>> {
    await this.rememberActor(actor);
    const after = query.cursor ? decodeTimeIdCursor(query.cursor) : undefined;
    if (after === null) throw ChatError.invalid('invalid cursor', [{ path: 'cursor', message: 'not a cursor this API returned' }]);
    const rows = await this.store.listRoomViews(actor.user_id, { archived: query.archived, limit: query.limit + 1, after });
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return {
      items: page.map(toRoom),
      next_cursor: rows.length > query.limit && last ? encodeTimeIdCursor({ micros: last.activity_micros, id: last.id }) : null,
    };
  }

  async authorize(request: { room_id: string; user_id: string; roles: string[]; action: RoomAction }) {
    const facts = await this.store.findAccessFacts(request.room_id, request.user_id);
    return {
      allowed: facts.kind !== null && isAllowed(request.action, { ...facts, tokenRoles: request.roles }),
      member: facts.role !== null,
      role: facts.role,
      kind: facts.kind,
      closed: facts.closed,
      visible_from_seq: facts.role === null ? 0 : facts.visibleFromSeq,
    };
  }

  /**
   * Room title and members' notification settings; a direct room is titled per recipient by the
   * notifier. `paging`: one page (by user id, after `paging.after`) of what fits one answer;
   * without it, every member at once, for clients from before paging.
   */
  async pushFacts(roomId: string, userIds: string[] | undefined, paging?: { after: string | undefined }) {
    const room = await this.store.findPublicRoom(roomId);
    if (!room) return { room: null, members: [], next_after: null };
    const facts = { id: room.id, kind: room.kind, title: room.title };
    if (!paging) return { room: facts, members: await this.store.pushSettings(roomId, userIds) };
    const rows = await this.store.pushSettings(roomId, userIds, { after: paging.after, limit: PUSH_FACTS_ROWS });
    const page = pushFactsPage(rows, PUSH_FACTS_ROWS, RPC_ANSWER_BUDGET_CHARS);
    return { room: facts, members: page.members, next_after: page.next_after };
  }

  async nonMembers(roomId: string, userIds: string[]): Promise<string[]> {
    const members = await this.store.existingMemberIds(roomId, userIds);
    return userIds.filter((id) => !members.has(id));
  }

  roomIdsOf(userIds: string[], maxMembers?: number) {
    return this.store.roomIdsOfUsers(userIds, maxMembers);
  }

  /** A room's member ids (null when too many) and its history visibility, for gateways' member lists. */
  async memberIds(roomId: string, maxMembers: number) {
    const [userIds, visibility] = await Promise.all([
      this.store.memberIdsUpTo(roomId, maxMembers),
      this.store.findHistoryVisibility(roomId),
    ]);
    return { user_ids: userIds, ...(visibility ? { history_visibility: visibility } : {}) };
  }

  async rememberActor(actor: Actor): Promise<void> {
    await this.rememberActors([actor]);
  }

  /** Names this process already wrote are skipped, so a burst of reconnects writes only what changed. */
  async rememberActors(actors: Actor[]): Promise<void> {
    const changed = actors.filter((a) => !this.knownNames.has(a.user_id) || this.knownNames.get(a.user_id) !== a.name);
    if (changed.length === 0) return;
    await this.store.rememberUserNames(changed.map((a) => ({ user_id: a.user_id, name: a.name })));
    if (this.knownNames.size > 100_000) this.knownNames.clear();
    for (const actor of changed) this.knownNames.set(actor.user_id, actor.name);
  }
}
