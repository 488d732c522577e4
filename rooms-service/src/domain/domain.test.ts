import type { EphemeralEvent, Role, RoomActivity, RoomKind } from '@chat/shared';
import type { Actor } from '@chat/shared/auth';
import { beforeEach, describe, expect, it } from 'vitest';
import { MembershipDomain } from './membership.js';
import type { PublicRoomRow, PushSettingsPage, RoomSignals, RoomsStore } from './ports.js';
import { ReadStateDomain } from './read-state.js';
import { RoomsDomain } from './rooms.js';

interface MemoryRoom {
  kind: RoomKind;
  lastSeq: number;
  members: Map<string, { role: Role; lastReadSeq: number }>;
}

/** The rooms store in memory: just what these rules use; any other call fails the test loudly. */
class MemoryRoomsStore {
  rooms = new Map<string, MemoryRoom>();
  /** The activity outbox: host events written by changes. */
  outbox: RoomActivity[] = [];

  room(id: string, kind: RoomKind, members: Record<string, Role>, lastSeq = 0): void {
    this.rooms.set(id, {
      kind,
      lastSeq,
      members: new Map(Object.entries(members).map(([user, role]) => [user, { role, lastReadSeq: 0 }])),
    });
  }

  asStore(): RoomsStore {
    const implemented = this as unknown as Record<string, unknown>;
    return new Proxy(this, {
      get: (_target, name: string) => {
        if (typeof implemented[name] === 'function') return (implemented[name] as (...args: unknown[]) => unknown).bind(this);
        throw new Error(`MemoryRoomsStore.${name} is not implemented`);
      },
    }) as unknown as RoomsStore;
  }

  transaction<T>(work: (store: RoomsStore) => Promise<T>): Promise<T> {
    return work(this.asStore());
  }
  async rememberUserNames() {}
  async recordActivity(events: readonly RoomActivity[]) {
    this.outbox.push(...events);
  }
  async bannedAmong() {
    return [];
  }
  async lockRoom(roomId: string) {
    const room = this.rooms.get(roomId);
    return room && { id: roomId, kind: room.kind, last_seq: room.lastSeq };
  }
  async findAccessFacts(roomId: string, userId: string) {
    const room = this.rooms.get(roomId);
    return { kind: room?.kind ?? null, role: room?.members.get(userId)?.role ?? null, closed: false, visibleFromSeq: 0, blocked: false };
  }
  async findMemberRole(roomId: string, userId: string) {
    return this.rooms.get(roomId)?.members.get(userId)?.role ?? null;
  }
  async existingMemberIds(roomId: string, userIds: string[]) {
    return new Set(userIds.filter((id) => this.rooms.get(roomId)?.members.has(id)));
  }
  async countMembers(roomId: string) {
    return this.rooms.get(roomId)?.members.size ?? 0;
  }
  async insertMembers(roomId: string, userIds: string[], lastReadSeq: number) {
    for (const id of userIds) this.rooms.get(roomId)?.members.set(id, { role: 'member', lastReadSeq });
  }
  async deleteMembers(roomId: string, userIds: string[]) {
    for (const id of userIds) this.rooms.get(roomId)?.members.delete(id);
  }
  async promoteSuccessorIfOwnerless(roomId: string) {
    const members = this.rooms.get(roomId)?.members;
    if (!members || [...members.values()].some((m) => m.role === 'owner')) return undefined;
    const [first] = members.entries();
    if (first) first[1].role = 'owner';
    return first?.[0];
  }
  async listMembers(roomId: string, offset: number, limit: number) {
    const members = [...(this.rooms.get(roomId)?.members ?? [])];
    return members.slice(offset, offset + limit).map(([user_id, m]) => ({
      user_id,
      name: null,
      role: m.role,
      last_read_seq: m.lastReadSeq,
      joined_at: '2026-01-01T00:00:00.000Z',
    }));
  }
  async findPublicRoom(roomId: string): Promise<PublicRoomRow | undefined> {
    const room = this.rooms.get(roomId);
    return (
      room && {
        id: roomId,
        kind: room.kind,
        title: 'T',
        context_type: null,
        context_id: null,
        created_by: 'alice',
        created_at: new Date(0),
        last_seq: room.lastSeq,
        last_message: null,
        member_count: room.members.size,
        closed_at: null,
        history_visibility: 'shared' as const,
      }
    );
  }
  async advanceReadCursor(roomId: string, userId: string, seq: number) {
    const member = this.rooms.get(roomId)?.members.get(userId);
    if (!member) return undefined;
    const moved = seq > member.lastReadSeq;
    if (moved) member.lastReadSeq = seq;
    return { lastReadSeq: member.lastReadSeq, moved };
  }
  async countUnread(roomId: string, _userId: string, afterSeq: number) {
    return Math.max(0, (this.rooms.get(roomId)?.lastSeq ?? 0) - afterSeq);
  }
  async pushSettings(roomId: string, userIds: string[] | undefined, page?: PushSettingsPage) {
    const ids = [...(this.rooms.get(roomId)?.members.keys() ?? [])]
      .filter((id) => (!userIds || userIds.includes(id)) && (page?.after === undefined || id > page.after))
      .sort();
    return ids.slice(0, page?.limit ?? ids.length).map((user_id) => ({
      user_id,
      name: null,
      muted_until: null,
      notify: 'all' as const,
      last_read_seq: 0,
      visible_from_seq: 0,
    }));
  }
}

const actor = (user_id: string, roles: string[] = []): Actor => ({ user_id, name: null, roles });

describe('rooms domain rules, on in-memory ports', () => {
  let memory: MemoryRoomsStore;
  let published: EphemeralEvent[];
  let recorded: RoomActivity[];
  let membership: MembershipDomain;
  let readState: ReadStateDomain;
  let rooms: RoomsDomain;

  beforeEach(() => {
    memory = new MemoryRoomsStore();
    published = [];
    recorded = [];
    const signals: RoomSignals = {
      publish: (_roomId, event) => published.push(event),
      recorded: (events) => recorded.push(...events),
      accessChanged: () => undefined,
    };
    const store = memory.asStore();
    rooms = new RoomsDomain(store, { groupMaxMembers: 3 });
    const sequences = { lastSeq: async (roomId: string) => memory.rooms.get(roomId)?.lastSeq ?? 0 };
    membership = new MembershipDomain(store, rooms, signals, { groupMaxMembers: 3 }, sequences);
    readState = new ReadStateDomain(store, signals, sequences);
  });

  it('refuses a direct room with yourself and a group over the cap', async () => {
    await expect(rooms.createRoom(actor('alice'), { kind: 'direct', user_id: 'alice' })).rejects.toMatchObject({ code: 'invalid' });
    await expect(rooms.createRoom(actor('alice'), { kind: 'group', title: 'T', member_ids: ['b', 'c', 'd'] })).rejects.toMatchObject({
      code: 'invalid',
    });
  });

  it('adds members to a group up to the cap, announcing each, and never a third to a direct room', async () => {
    memory.room('g', 'group', { alice: 'owner' }, 5);
    memory.room('d', 'direct', { alice: 'member', bob: 'member' });
    await membership.add(actor('alice'), 'g', { member_ids: ['bob', 'alice'] });
    expect(published.filter((e) => e.type === 'member.added')).toEqual([{ type: 'member.added', room_id: 'g', user_id: 'bob' }]);
    expect(memory.rooms.get('g')?.members.get('bob')).toEqual({ role: 'member', lastReadSeq: 5 });
    // The host events went into the outbox with the change, and to JetStream after it, under the same ids.
    expect(memory.outbox.map((e) => [e.type, e.data])).toEqual([
      ['member.added', { user_id: 'bob' }],
      ['room.updated', { room: expect.objectContaining({ id: 'g' }) }],
    ]);
    expect(recorded.map((e) => e.id)).toEqual(memory.outbox.map((e) => e.id));
    await expect(membership.add(actor('alice'), 'g', { member_ids: ['carol', 'dave'] })).rejects.toMatchObject({ code: 'invalid' });
    await expect(membership.add(actor('alice'), 'd', { member_ids: ['carol'] })).rejects.toMatchObject({ code: 'invalid' });
  });

  it('lets owners remove anyone, admins only members, and hands an ownerless room on', async () => {
    memory.room('g', 'group', { alice: 'owner', bob: 'admin', carol: 'member' });
    await expect(membership.remove(actor('bob'), 'g', 'alice')).rejects.toMatchObject({ code: 'forbidden' });
    await membership.remove(actor('bob'), 'g', 'carol');
    await membership.remove(actor('alice'), 'g', 'alice');
    expect(memory.rooms.get('g')?.members.get('bob')?.role).toBe('owner');
    expect(published.filter((e) => e.type === 'member.removed').map((e) => 'user_id' in e && e.user_id)).toEqual(['carol', 'alice']);
  });

  it('hides a room from non-members (404) and keeps a direct room from being left', async () => {
    memory.room('d', 'direct', { alice: 'member', bob: 'member' });
    await expect(membership.remove(actor('eve'), 'd', 'eve')).rejects.toMatchObject({ code: 'not_found' });
    await expect(membership.remove(actor('alice'), 'd', 'alice')).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('moves read cursors forward only, never past the last seq, and signals only a move', async () => {
    memory.room('g', 'group', { alice: 'owner' }, 10);
    await expect(readState.markRead(actor('alice'), 'g', 11)).rejects.toMatchObject({ code: 'invalid' });
    await expect(readState.markRead(actor('eve'), 'g', 1)).rejects.toMatchObject({ code: 'not_found' });
    expect(await readState.markRead(actor('alice'), 'g', 7)).toEqual({ room_id: 'g', last_read_seq: 7, unread_count: 3 });
    expect(await readState.markRead(actor('alice'), 'g', 4)).toEqual({ room_id: 'g', last_read_seq: 7, unread_count: 3 });
    expect(published).toEqual([{ type: 'read', room_id: 'g', user_id: 'alice', seq: 7 }]);
  });

  it('answers push facts in pages to a client that pages, and all at once to one from before paging', async () => {
    const crowd = Object.fromEntries(Array.from({ length: 2500 }, (_, i) => [`u${String(i).padStart(4, '0')}`, 'member' as Role]));
    memory.room('crowd', 'group', crowd);
    const ids = Object.keys(crowd);
    const unpaged = await rooms.pushFacts('crowd', undefined);
    expect(unpaged.members.map((m) => m.user_id)).toEqual(ids);
    expect(unpaged).not.toHaveProperty('next_after');

    const paged: string[] = [];
    let after: string | undefined;
    for (let pages = 1; ; pages++) {
      const page = await rooms.pushFacts('crowd', undefined, { after });
      expect(page.members.length).toBeLessThanOrEqual(1000);
      for (const m of page.members) paged.push(m.user_id);
      if (!page.next_after) break;
      after = page.next_after;
      expect(pages).toBeLessThan(10);
    }
    expect(paged).toEqual(ids);
    const some = await rooms.pushFacts('crowd', ['u2499', 'u0001', 'nobody'], { after: undefined });
    expect(some).toMatchObject({ members: [{ user_id: 'u0001' }, { user_id: 'u2499' }], next_after: null });
  });
});
