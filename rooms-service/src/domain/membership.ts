import {
  type AddMembersBody,
  ChatError,
  type ContextRef,
  type ContextRoomBody,
  type Member,
  type MembershipSettingsBody,
  type Page,
  type Role,
  type Room,
} from '@chat/shared';
import { type Actor, isService } from '@chat/shared/auth';
import type { Kysely } from 'kysely';
import {
  countMembers,
  deleteMembers,
  ensureContextRoomRow,
  existingMemberIds,
  findMemberRole,
  insertMembers,
  listMembers,
  lockRoom,
  promoteSuccessorIfOwnerless,
  setMemberRole,
  updateMemberSettings,
  updateRoomTitle,
} from '../db/members-repository.js';
import { findAccessFacts, findPublicRoom } from '../db/rooms-repository.js';
import type { RoomsDatabase } from '../db/schema.js';
import { type AccessFacts, isAllowed, type MembershipAction, mayRemove } from './policy.js';
import type { RoomSignals } from './ports.js';
import { toPublicRoom } from './room-view.js';
import type { RoomsDomain } from './rooms.js';

/** Who is in a room and with which role; every change is announced to the room. */
export class MembershipDomain {
  constructor(
    private readonly db: Kysely<RoomsDatabase>,
    private readonly rooms: RoomsDomain,
    private readonly signals: RoomSignals,
    private readonly options: { groupMaxMembers: number },
  ) {}

  async rename(actor: Actor, roomId: string, title: string): Promise<Room> {
    await this.require(actor, roomId, 'room.rename');
    await updateRoomTitle(this.db, roomId, title);
    await this.announceRoom(roomId);
    return this.roomFor(actor, roomId);
  }

  async updateSettings(actor: Actor, roomId: string, settings: MembershipSettingsBody): Promise<Room> {
    await this.require(actor, roomId, 'room.read');
    await updateMemberSettings(this.db, roomId, actor.user_id, settings);
    return this.rooms.getRoom(actor, roomId);
  }

  async list(actor: Actor, roomId: string, limit: number, cursor: string | undefined): Promise<Page<Member>> {
    await this.require(actor, roomId, 'room.read');
    const offset = cursor === undefined ? 0 : Number.parseInt(cursor, 10);
    if (!Number.isSafeInteger(offset) || offset < 0)
      throw ChatError.invalid('invalid cursor', [{ path: 'cursor', message: 'not a cursor this API returned' }]);
    const items = await listMembers(this.db, roomId, offset, limit + 1);
    return { items: items.slice(0, limit), next_cursor: items.length > limit ? String(offset + limit) : null };
  }

  async add(actor: Actor, roomId: string, body: AddMembersBody): Promise<Page<Member>> {
    const facts = await this.facts(actor, roomId);
    if (facts.kind === 'direct') throw ChatError.invalid('a direct room never gains a third member');
    if (!isAllowed('member.add', facts)) throw ChatError.forbidden('only owners and admins add members');
    const added = await this.db.transaction().execute(async (trx) => {
      const room = await lockRoom(trx, roomId);
      if (!room) throw ChatError.notFound('room');
      const existing = await existingMemberIds(trx, roomId, body.member_ids);
      const newcomers = body.member_ids.filter((id) => !existing.has(id));
      if ((await countMembers(trx, roomId)) + newcomers.length > this.options.groupMaxMembers) {
        throw ChatError.invalid(`a group holds at most ${this.options.groupMaxMembers} members`, [
          { path: 'member_ids', message: 'too many members' },
        ]);
      }
      await insertMembers(trx, roomId, newcomers, room.last_seq);
      return newcomers;
    });
    for (const userId of added) this.signals.publish(roomId, { type: 'member.added', room_id: roomId, user_id: userId });
    if (added.length) await this.announceRoom(roomId);
    return this.list(actor, roomId, 1000, undefined);
  }

  async changeRole(actor: Actor, roomId: string, userId: string, role: Role): Promise<Member> {
    await this.require(actor, roomId, 'member.change_role');
    await this.db.transaction().execute(async (trx) => {
      if (!(await lockRoom(trx, roomId))) throw ChatError.notFound('room');
      if ((await findMemberRole(trx, roomId, userId)) === null) throw ChatError.notFound('member');
      await setMemberRole(trx, roomId, userId, role);
      // Demoting yourself as the last owner hands the room on, like leaving does.
      await promoteSuccessorIfOwnerless(trx, roomId);
    });
    await this.announceRoom(roomId);
    const members = await listMembers(this.db, roomId, 0, this.options.groupMaxMembers);
    const member = members.find((m) => m.user_id === userId);
    if (!member) throw ChatError.notFound('member');
    return member;
  }

  async remove(actor: Actor, roomId: string, userId: string): Promise<void> {
    const facts = await this.facts(actor, roomId);
    await this.db.transaction().execute(async (trx) => {
      if (!(await lockRoom(trx, roomId))) throw ChatError.notFound('room');
      const targetRole = await findMemberRole(trx, roomId, userId);
      if (targetRole === null) throw ChatError.notFound('member');
      if (userId === actor.user_id) {
        if (!isAllowed('member.leave', facts)) throw ChatError.forbidden(`a ${facts.kind} room cannot be left; archive it instead`);
      } else if (!mayRemove(facts, targetRole)) {
        throw ChatError.forbidden('not allowed to remove this member');
      }
      await deleteMembers(trx, roomId, [userId]);
      await promoteSuccessorIfOwnerless(trx, roomId);
    });
    this.signals.publish(roomId, { type: 'member.removed', room_id: roomId, user_id: userId });
    await this.announceRoom(roomId);
  }

  /** The host application's room for one of its objects, with exactly the given members. */
  async ensureContextRoom(actor: Actor, context: ContextRef, body: ContextRoomBody): Promise<{ room: Room; created: boolean }> {
    if (!isService(actor)) throw ChatError.forbidden('only a service token manages context rooms');
    const { roomId, created } = await ensureContextRoomRow(this.db, context, body.title ?? null, actor.user_id);
    const { added, removed, renamed } = await this.db.transaction().execute(async (trx) => {
      const room = await lockRoom(trx, roomId);
      if (!room) throw ChatError.notFound('room');
      const current = await trx.selectFrom('rooms.members').select('user_id').where('room_id', '=', roomId).execute();
      const wanted = new Set(body.member_ids);
      const have = new Set(current.map((m) => m.user_id));
      const toAdd = body.member_ids.filter((id) => !have.has(id));
      const toRemove = [...have].filter((id) => !wanted.has(id));
      await insertMembers(trx, roomId, toAdd, room.last_seq);
      await deleteMembers(trx, roomId, toRemove);
      let titleChanged = false;
      if (body.title !== undefined && !created) {
        const result = await trx
          .updateTable('rooms.rooms')
          .set({ title: body.title })
          .where('id', '=', roomId)
          .where('title', 'is distinct from', body.title)
          .executeTakeFirst();
        titleChanged = Number(result.numUpdatedRows) > 0;
      }
      return { added: toAdd, removed: toRemove, renamed: titleChanged };
    });
    for (const userId of added) this.signals.publish(roomId, { type: 'member.added', room_id: roomId, user_id: userId });
    for (const userId of removed) this.signals.publish(roomId, { type: 'member.removed', room_id: roomId, user_id: userId });
    if (added.length || removed.length || renamed) await this.announceRoom(roomId);
    return { room: await this.roomFor(actor, roomId), created };
  }

  /** A member gets its own view; a managing service that is not a member gets a neutral `me`. */
  private async roomFor(actor: Actor, roomId: string): Promise<Room> {
    if ((await findMemberRole(this.db, roomId, actor.user_id)) !== null) return this.rooms.getRoom(actor, roomId);
    const publicRoom = await findPublicRoom(this.db, roomId);
    if (!publicRoom) throw ChatError.notFound('room');
    return {
      ...toPublicRoom(publicRoom),
      me: { role: 'member', last_read_seq: publicRoom.last_seq, unread_count: 0, muted_until: null, notify: 'none', archived: false },
    };
  }

  private async facts(actor: Actor, roomId: string): Promise<AccessFacts> {
    const facts = { ...(await findAccessFacts(this.db, roomId, actor.user_id)), tokenRoles: actor.roles };
    // A room the caller is not in does not exist for them, unless a service manages it.
    if (facts.kind === null || (facts.role === null && !(facts.kind === 'context' && isService(actor)))) throw ChatError.notFound('room');
    return facts;
  }

  private async require(actor: Actor, roomId: string, action: MembershipAction | 'room.read'): Promise<AccessFacts> {
    const facts = await this.facts(actor, roomId);
    if (!isAllowed(action, facts)) throw ChatError.forbidden(`not allowed: ${action}`);
    return facts;
  }

  private async announceRoom(roomId: string): Promise<void> {
    const row = await findPublicRoom(this.db, roomId);
    if (row) this.signals.publish(roomId, { type: 'room.updated', room_id: roomId, room: toPublicRoom(row) });
  }
}
