import { randomUUID } from 'node:crypto';
import {
  type AddMembersBody,
  type Ban,
  ChatError,
  type ContextRef,
  type ContextRoomBody,
  type HostEventData,
  isRoomActivity,
  type Member,
  type MembershipSettingsBody,
  type Page,
  type Role,
  type Room,
  type RoomActivity,
  type RoomActivityType,
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
    this.announce(
      await this.store.transaction(async (tx) =>
        (await tx.updateRoomSettings(roomId, changes)) ? this.recordChange(tx, roomId, { roomChanged: true }) : [],
      ),
    );
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
    const activity = await this.store.transaction(async (tx) => {
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
      return this.recordChange(tx, roomId, { added: newcomers, roomChanged: newcomers.length > 0 });
    });
    this.announce(activity);
    return this.list(actor, roomId, 1000, undefined);
  }

  async changeRole(actor: Actor, roomId: string, userId: string, role: Role): Promise<Member> {
    await this.require(actor, roomId, 'member.change_role');
    const activity = await this.store.transaction(async (tx) => {
      if (!(await tx.lockRoom(roomId))) throw ChatError.notFound('room');
      if ((await tx.findMemberRole(roomId, userId)) === null) throw ChatError.notFound('member');
      await tx.setMemberRole(roomId, userId, role);
      // Demoting yourself as the last owner hands the room on, like leaving does.
      await tx.promoteSuccessorIfOwnerless(roomId);
      return this.recordChange(tx, roomId, { roomChanged: true });
    });
    this.announce(activity);
    const members = await this.store.listMembers(roomId, 0, this.options.groupMaxMembers);
    const member = members.find((m) => m.user_id === userId);
    if (!member) throw ChatError.notFound('member');
    return member;
  }

  async remove(actor: Actor, roomId: string, userId: string): Promise<void> {
    const facts = await this.facts(actor, roomId);
    const activity = await this.store.transaction(async (tx) => {
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
      return this.recordChange(tx, roomId, { removed: [userId], roomChanged: true });
    });
    this.announce(activity);
  }

  /**
   * Bans a user from a group (owner/admin): they are removed (member.removed) and cannot be added
   * again until unbanned. Admins ban plain members (like removing them); nobody bans an owner.
   */
  async ban(actor: Actor, roomId: string, userId: string): Promise<Ban> {
    const facts = await this.requireBanManager(actor, roomId);
    if (userId === actor.user_id)
      throw ChatError.unprocessable('you cannot ban yourself', [{ path: 'user_id', message: 'must not be yourself' }]);
    const { ban, activity } = await this.store.transaction(async (tx) => {
      if (!(await tx.lockRoom(roomId))) throw ChatError.notFound('room');
      const targetRole = await tx.findMemberRole(roomId, userId);
      if (targetRole === 'owner') {
        throw ChatError.unprocessable('an owner cannot be banned; change their role first', [{ path: 'user_id', message: 'is an owner' }]);
      }
      if (targetRole !== null && !mayRemove(facts, targetRole)) throw ChatError.forbidden('admins ban plain members only');
      const row = await tx.insertBan(roomId, userId, actor.user_id);
      if (targetRole === null) return { ban: row, activity: [] };
      await tx.deleteMembers(roomId, [userId]);
      return { ban: row, activity: await this.recordChange(tx, roomId, { removed: [userId], roomChanged: true }) };
    });
    this.announce(activity);
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
    const activity = await this.store.transaction(async (tx) => {
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
      const roomChanged = toAdd.length > 0 || toRemove.length > 0 || titleChanged;
      return this.recordChange(tx, roomId, { added: toAdd, removed: toRemove, roomChanged });
    });
    this.announce(activity);
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
    this.announce(
      await this.store.transaction(async (tx) =>
        (await tx.setRoomClosed(roomId, closed)) ? this.recordChange(tx, roomId, { roomChanged: true, closed }) : [],
      ),
    );
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

  /**
   * Inside the change's transaction: the host events of the change (the room as changed, for
   * room.updated) into the activity outbox (DESIGN 10.4). A close is told to the host as its own
   * event too; a reopen is a room.updated.
   */
  private async recordChange(
    tx: RoomsStore,
    roomId: string,
    change: { added?: readonly string[]; removed?: readonly string[]; roomChanged: boolean; closed?: boolean },
  ): Promise<RoomActivity[]> {
    const row = change.roomChanged ? await tx.findPublicRoom(roomId) : undefined;
    const room = row ? toPublicRoom(row) : undefined;
    const occurredAt = new Date().toISOString();
    const event = <T extends RoomActivityType>(type: T, data: HostEventData<T>): RoomActivity =>
      ({ id: `evt_${randomUUID()}`, type, room_id: roomId, occurred_at: occurredAt, data }) as RoomActivity;
    const activity = [
      ...(change.added ?? []).map((userId) => event('member.added', { user_id: userId })),
      ...(change.removed ?? []).map((userId) => event('member.removed', { user_id: userId })),
      ...(room ? [event('room.updated', { room })] : []),
      ...(room && change.closed ? [event('room.closed', { room })] : []),
    ];
    await tx.recordActivity(activity);
    return activity;
  }

  /**
   * After the commit: the room's sockets hear of the change (each host event but room.closed is
   * also a socket signal), and the host events, already in the outbox, go to JetStream.
   */
  private announce(activity: readonly RoomActivity[]): void {
    for (const event of activity) {
      const signal = { room_id: event.room_id };
      if (isRoomActivity(event, 'member.added') || isRoomActivity(event, 'member.removed'))
        this.signals.publish(event.room_id, { ...signal, type: event.type, user_id: event.data.user_id });
      else if (isRoomActivity(event, 'room.updated'))
        this.signals.publish(event.room_id, { ...signal, type: 'room.updated', room: event.data.room });
    }
    this.signals.recorded(activity);
  }
}
