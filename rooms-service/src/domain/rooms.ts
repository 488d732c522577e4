import { ChatError, type CreateRoomBody, decodeTimeIdCursor, encodeTimeIdCursor, type Page, type Room } from '@chat/shared';
import type { Actor } from '@chat/shared/auth';
import type { RoomAction } from '@chat/shared/rpc';
import type { Kysely } from 'kysely';
import { existingMemberIds, memberIdsUpTo, pushSettings, roomIdsOfUsers } from '../db/members-repository.js';
import {
  ensureDirectRoom,
  findAccessFacts,
  findPublicRoom,
  findRoomView,
  insertGroupRoom,
  listRoomViews,
  rememberUserNames,
} from '../db/rooms-repository.js';
import type { RoomsDatabase } from '../db/schema.js';
import { directRoomKey } from './direct-key.js';
import { isAllowed } from './policy.js';
import { toRoom } from './room-view.js';

export interface RoomsDomainOptions {
  groupMaxMembers: number;
}

/** Room use cases: each validates its rules, then reads or writes through the repository. */
export class RoomsDomain {
  /** Names already written, so a busy user does not cost a write per request. */
  private readonly knownNames = new Map<string, string | null>();

  constructor(
    private readonly db: Kysely<RoomsDatabase>,
    private readonly options: RoomsDomainOptions,
  ) {}

  async createRoom(actor: Actor, body: CreateRoomBody): Promise<{ room: Room; created: boolean }> {
    await this.rememberActor(actor);
    if (body.kind === 'direct') {
      if (body.user_id === actor.user_id) {
        throw ChatError.invalid('a direct room needs another user', [{ path: 'user_id', message: 'must not be yourself' }]);
      }
      const { roomId, created } = await ensureDirectRoom(this.db, directRoomKey(actor.user_id, body.user_id), actor.user_id, body.user_id);
      return { room: await this.getRoom(actor, roomId), created };
    }
    const others = body.member_ids.filter((id) => id !== actor.user_id);
    if (others.length + 1 > this.options.groupMaxMembers) {
      throw ChatError.invalid(`a group holds at most ${this.options.groupMaxMembers} members`, [
        { path: 'member_ids', message: 'too many members' },
      ]);
    }
    const roomId = await insertGroupRoom(this.db, actor.user_id, body.title, others);
    return { room: await this.getRoom(actor, roomId), created: true };
  }

  /** A room the actor is not a member of does not exist for them. */
  async getRoom(actor: Actor, roomId: string): Promise<Room> {
    const row = await findRoomView(this.db, roomId, actor.user_id);
    if (!row) throw ChatError.notFound('room');
    return toRoom(row);
  }

  async listRooms(actor: Actor, query: { archived: boolean; limit: number; cursor?: string | undefined }): Promise<Page<Room>> {
    await this.rememberActor(actor);
    const after = query.cursor ? decodeTimeIdCursor(query.cursor) : undefined;
    if (after === null) throw ChatError.invalid('invalid cursor', [{ path: 'cursor', message: 'not a cursor this API returned' }]);
    const rows = await listRoomViews(this.db, actor.user_id, { archived: query.archived, limit: query.limit + 1, after });
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return {
      items: page.map(toRoom),
      next_cursor: rows.length > query.limit && last ? encodeTimeIdCursor({ micros: last.activity_micros, id: last.id }) : null,
    };
  }

  async authorize(request: { room_id: string; user_id: string; roles: string[]; action: RoomAction }) {
    const facts = await findAccessFacts(this.db, request.room_id, request.user_id);
    return {
      allowed: facts.kind !== null && isAllowed(request.action, { ...facts, tokenRoles: request.roles }),
      member: facts.role !== null,
      role: facts.role,
      kind: facts.kind,
    };
  }

  /** Room title and members' notification settings; a direct room is titled per recipient by the notifier. */
  async pushFacts(roomId: string, userIds: string[] | undefined) {
    const room = await findPublicRoom(this.db, roomId);
    if (!room) return { room: null, members: [] };
    return { room: { id: room.id, kind: room.kind, title: room.title }, members: await pushSettings(this.db, roomId, userIds) };
  }

  async nonMembers(roomId: string, userIds: string[]): Promise<string[]> {
    const members = await existingMemberIds(this.db, roomId, userIds);
    return userIds.filter((id) => !members.has(id));
  }

  roomIdsOf(userIds: string[], maxMembers?: number): Promise<Map<string, string[]>> {
    return roomIdsOfUsers(this.db, userIds, maxMembers);
  }

  memberIds(roomId: string, maxMembers: number): Promise<string[] | null> {
    return memberIdsUpTo(this.db, roomId, maxMembers);
  }

  async rememberActor(actor: Actor): Promise<void> {
    await this.rememberActors([actor]);
  }

  /** Names this process already wrote are skipped, so a burst of reconnects writes only what changed. */
  async rememberActors(actors: Actor[]): Promise<void> {
    const changed = actors.filter((a) => !this.knownNames.has(a.user_id) || this.knownNames.get(a.user_id) !== a.name);
    if (changed.length === 0) return;
    await rememberUserNames(
      this.db,
      changed.map((a) => ({ user_id: a.user_id, name: a.name })),
    );
    if (this.knownNames.size > 100_000) this.knownNames.clear();
    for (const actor of changed) this.knownNames.set(actor.user_id, actor.name);
  }
}
