import {
  type AddMembersBody,
  type Ban,
  ChatError,
  type ContextRef,
  type ContextRoomBody,
  type Member,
  type MembershipSettingsBody,
  type Page,
  type Role,
  type Room,
  type UpdateRoomBody,
} from '@chat/shared';
import { type Actor, isService } from '@chat/shared/auth';
import { type AccessFacts, isAllowed, type MembershipAction, mayRemove } from './policy.js';
import type { RoomSignals, RoomsStore, SequenceSource } from './ports.js';
import { toPublicRoom } from './room-view.js';
import type { RoomsDomain } from './rooms.js';

/** Who is in a room and with which role; every change is announced to the room. */
export class MembershipDomain {
  constructor(
    private readonly store: RoomsStore,
    private readonly rooms: RoomsDomain,
    private readonly signals: RoomSignals,
    private readonly options: { groupMaxMembers: number },
    private readonly sequences: SequenceSource,
  ) {}

  /**
   * Where newcomers join: the room's last seq from the messages service, which owns it (the
   * projection here may lag a burst of sends, and a late joiner must not see the tail of it).
   */
  private async joinSeq(roomId: string, projected: number): Promise<number> {
    return Math.max(projected, await this.sequences.lastSeq(roomId));
  }

  /** Renames and/or sets the history visibility; a change is announced (and resets services' cached access answers). */
  async update(actor: Actor, roomId: string, changes: UpdateRoomBody): Promise<Room> {
    await this.require(actor, roomId, 'room.rename');
    if (await this.store.updateRoomSettings(roomId, changes)) await this.announceRoom(roomId);
    return this.roomFor(actor, roomId);
  }

  async updateSettings(actor: Actor, roomId: string, settings: MembershipSettingsBody): Promise<Room> {
    await this.require(actor, roomId, 'room.read');
    await this.store.updateMemberSettings(roomId, actor.user_id, settings);
    return this.rooms.getRoom(actor, roomId);
  }

  async list(actor: Actor, roomId: string, limit: number, cursor: string | undefined): Promise<Page<Member>> {
    await this.require(actor, roomId, 'room.read');
    const offset = cursor === undefined ? 0 : Number.parseInt(cursor, 10);
    if (!Number.isSafeInteger(offset) || offset < 0)
      throw ChatError.invalid('invalid cursor', [{ path: 'cursor', message: 'not a cursor this API returned' }]);
    const items = await this.store.listMembers(roomId, offset, limit + 1);
    return { items: items.slice(0, limit), next_cursor: items.length > limit ? String(offset + limit) : null };
  }

  async add(actor: Actor, roomId: string, body: AddMembersBody): Promise<Page<Member>> {
    const facts = await this.facts(actor, roomId);
    if (facts.kind === 'direct') throw ChatError.invalid('a direct room never gains a third member');
    if (!isAllowed('member.add', facts)) throw ChatError.forbidden('only owners and admins add members');
    const joinedAt = await this.joinSeq(roomId, 0);
    const added = await this.store.transaction(async (tx) => {
      const room = await tx.lockRoom(roomId);
      if (!room) throw ChatError.notFound('room');
      const existing = await tx.existingMemberIds(roomId, body.member_ids);
      const newcomers = body.member_ids.filter((id) => !existing.has(id));
      const banned = await tx.bannedAmong(roomId, newcomers);
      if (banned.length > 0) {
        throw new ChatError(
          'conflict',
          `banned from this room until unbanned: ${banned.join(', ')}`,
          banned.map((id) => ({ path: `member_ids.${body.member_ids.indexOf(id)}`, message: `${id} is banned` })),
        );
      }
      if ((await tx.countMembers(roomId)) + newcomers.length > this.options.groupMaxMembers) {
        throw ChatError.invalid(`a group holds at most ${this.options.groupMaxMembers} members`, [
          { path: 'member_ids', message: 'too many members' },
        ]);
      }
      await tx.insertMembers(roomId, newcomers, Math.max(room.last_seq, joinedAt));
      return newcomers;
    });
    for (const userId of added) this.signals.publish(roomId, { type: 'member.added', room_id: roomId, user_id: userId });
    if (added.length) await this.announceRoom(roomId);
    return this.list(actor, roomId, 1000, undefined);
  }

  async changeRole(actor: Actor, roomId: string, userId: string, role: Role): Promise<Member> {
    await this.require(actor, roomId, 'member.change_role');
    await this.store.transaction(async (tx) => {
      if (!(await tx.lockRoom(roomId))) throw ChatError.notFound('room');
      if ((await tx.findMemberRole(roomId, userId)) === null) throw ChatError.notFound('member');
      await tx.setMemberRole(roomId, userId, role);
      // Demoting yourself as the last owner hands the room on, like leaving does.
      await tx.promoteSuccessorIfOwnerless(roomId);
    });
    await this.announceRoom(roomId);
    const members = await this.store.listMembers(roomId, 0, this.options.groupMaxMembers);
    const member = members.find((m) => m.user_id === userId);
    if (!member) throw ChatError.notFound('member');
    return member;
  }

  async remove(actor: Actor, roomId: string, userId: string): Promise<void> {
    const facts = await this.facts(actor, roomId);
    await this.store.transaction(async (tx) => {
      if (!(await tx.lockRoom(roomId))) throw ChatError.notFound('room');
      const targetRole = await tx.findMemberRole(roomId, userId);
      if (targetRole === null) throw ChatError.notFound('member');
      if (userId === actor.user_id) {
        if (!isAllowed('member.leave', facts)) throw ChatError.forbidden(`a ${facts.kind} room cannot be left; archive it instead`);
      } else if (!mayRemove(facts, targetRole)) {
        throw ChatError.forbidden('not allowed to remove this member');
      }
      await tx.deleteMembers(roomId, [userId]);
      await tx.promoteSuccessorIfOwnerless(roomId);
    });
    this.signals.publish(roomId, { type: 'member.removed', room_id: roomId, user_id: userId });
    await this.announceRoom(roomId);
  }

  /**
   * Bans a user from a group (owner/admin): they are removed (member.removed) and cannot be added
   * again until unbanned. Admins ban plain members (like removing them); nobody bans an owner.
   */
  async ban(actor: Actor, roomId: string, userId: string): Promise<Ban> {
    const facts = await this.requireBanManager(actor, roomId);
    if (userId === actor.user_id)
      throw ChatError.unprocessable('you cannot ban yourself', [{ path: 'user_id', message: 'must not be yourself' }]);
    const { ban, removed } = await this.store.transaction(async (tx) => {
      if (!(await tx.lockRoom(roomId))) throw ChatError.notFound('room');
      const targetRole = await tx.findMemberRole(roomId, userId);
      if (targetRole === 'owner') {
        throw ChatError.unprocessable('an owner cannot be banned; change their role first', [{ path: 'user_id', message: 'is an owner' }]);
      }
      if (targetRole !== null && !mayRemove(facts, targetRole)) throw ChatError.forbidden('admins ban plain members only');
      const row = await tx.insertBan(roomId, userId, actor.user_id);
      if (targetRole !== null) await tx.deleteMembers(roomId, [userId]);
      return { ban: row, removed: targetRole !== null };
    });
    if (removed) {
      this.signals.publish(roomId, { type: 'member.removed', room_id: roomId, user_id: userId });
      await this.announceRoom(roomId);
    }
    return { user_id: ban.user_id, banned_by: ban.banned_by, banned_at: ban.created_at.toISOString() };
  }

  async unban(actor: Actor, roomId: string, userId: string): Promise<void> {
    await this.requireBanManager(actor, roomId);
    await this.store.deleteBan(roomId, userId);
  }

  async listBans(actor: Actor, roomId: string): Promise<Page<Ban>> {
    await this.requireBanManager(actor, roomId);
    const rows = await this.store.listBans(roomId);
    return {
      items: rows.map((r) => ({ user_id: r.user_id, banned_by: r.banned_by, banned_at: r.created_at.toISOString() })),
      next_cursor: null,
    };
  }

  /** Bans are for groups, managed by their owners and admins. */
  private async requireBanManager(actor: Actor, roomId: string): Promise<AccessFacts> {
    const facts = await this.facts(actor, roomId);
    if (facts.kind !== 'group') throw ChatError.forbidden('bans are for group rooms');
    if (!isAllowed('member.add', facts)) throw ChatError.forbidden('only owners and admins ban');
    return facts;
  }

  /** The host application's room for one of its objects, with exactly the given members. */
  async ensureContextRoom(actor: Actor, context: ContextRef, body: ContextRoomBody): Promise<{ room: Room; created: boolean }> {
    if (!isService(actor)) throw ChatError.forbidden('only a service token manages context rooms');
    const { roomId, created } = await this.store.ensureContextRoomRow(context, body.title ?? null, actor.user_id, body.history_visibility);
    const joinedAt = created ? 0 : await this.joinSeq(roomId, 0);
    const { added, removed, renamed } = await this.store.transaction(async (tx) => {
      const room = await tx.lockRoom(roomId);
      if (!room) throw ChatError.notFound('room');
      const wanted = new Set(body.member_ids);
      const have = new Set(await tx.allMemberIds(roomId));
      const toAdd = body.member_ids.filter((id) => !have.has(id));
      const toRemove = [...have].filter((id) => !wanted.has(id));
      await tx.insertMembers(roomId, toAdd, Math.max(room.last_seq, joinedAt));
      await tx.deleteMembers(roomId, toRemove);
      const titleChanged =
        !created && (await tx.updateRoomSettings(roomId, { title: body.title, history_visibility: body.history_visibility }));
      return { added: toAdd, removed: toRemove, renamed: titleChanged };
    });
    for (const userId of added) this.signals.publish(roomId, { type: 'member.added', room_id: roomId, user_id: userId });
    for (const userId of removed) this.signals.publish(roomId, { type: 'member.removed', room_id: roomId, user_id: userId });
    if (added.length || removed.length || renamed) await this.announceRoom(roomId);
    return { room: await this.roomFor(actor, roomId), created };
  }

  /**
   * Closes (read-only) or reopens the room of a host object. Idempotent: a repeat changes nothing
   * and announces nothing; a change reaches subscribers as `room.updated`.
   */
  async setContextRoomClosed(actor: Actor, context: ContextRef, closed: boolean): Promise<Room> {
    if (!isService(actor)) throw ChatError.forbidden('only a service token closes or reopens context rooms');
    const roomId = await this.store.findContextRoomId(context);
    if (!roomId) throw ChatError.notFound('room');
    if (await this.store.setRoomClosed(roomId, closed)) {
      const room = await this.announceRoom(roomId);
      // The host hears of a close as its own event too (DESIGN 10.4); a reopen is a room.updated.
      if (closed && room) this.signals.record(roomId, 'room.closed', { room });
    }
    return this.roomFor(actor, roomId);
  }

  /**
   * The room of a host object, for the host's own writes into it (system messages): service
   * tokens only, not_found when the object has no room.
   */
  async contextRoom(actor: Actor, context: ContextRef): Promise<{ room_id: string; closed: boolean }> {
    if (!isService(actor)) throw ChatError.forbidden('only a service token posts into context rooms');
    const room = await this.store.findContextRoomState(context);
    if (!room) throw ChatError.notFound('room');
    // A closed room is refused by the sender (409), after it looked for an earlier send to answer with.
    return { room_id: room.id, closed: room.closed };
  }

  /** A member gets its own view; a managing service that is not a member gets a neutral `me`. */
  private async roomFor(actor: Actor, roomId: string): Promise<Room> {
    if ((await this.store.findMemberRole(roomId, actor.user_id)) !== null) return this.rooms.getRoom(actor, roomId);
    const publicRoom = await this.store.findPublicRoom(roomId);
    if (!publicRoom) throw ChatError.notFound('room');
    return {
      ...toPublicRoom(publicRoom),
      me: {
        role: 'member',
        last_read_seq: publicRoom.last_seq,
        unread_count: 0,
        muted_until: null,
        notify: 'none',
        archived: false,
        visible_from_seq: 0,
      },
    };
  }

  private async facts(actor: Actor, roomId: string): Promise<AccessFacts> {
    const facts = { ...(await this.store.findAccessFacts(roomId, actor.user_id)), tokenRoles: actor.roles };
    // A room the caller is not in does not exist for them, unless a service manages it.
    if (facts.kind === null || (facts.role === null && !(facts.kind === 'context' && isService(actor)))) throw ChatError.notFound('room');
    return facts;
  }

  private async require(actor: Actor, roomId: string, action: MembershipAction | 'room.read'): Promise<AccessFacts> {
    const facts = await this.facts(actor, roomId);
    if (!isAllowed(action, facts)) throw ChatError.forbidden(`not allowed: ${action}`);
    return facts;
  }

  private async announceRoom(roomId: string): Promise<ReturnType<typeof toPublicRoom> | undefined> {
    const row = await this.store.findPublicRoom(roomId);
    if (!row) return undefined;
    const room = toPublicRoom(row);
    this.signals.publish(roomId, { type: 'room.updated', room_id: roomId, room });
    return room;
  }
}
