import type { Actor } from '@chat/shared/auth';
import type { SyncRequest } from '@chat/shared/rpc';
import { describe, expect, it } from 'vitest';
import type { RoomAccess, RoomAccessAnswer } from './room-access.js';
import { RoomSync, type SyncStore } from './room-sync.js';

const actor: Actor = { user_id: 'ann', name: 'Ann', roles: [] };
const ROOM_A = '00000000-0000-4000-8000-00000000000a';
const ROOM_B = '00000000-0000-4000-8000-00000000000b';
const HIDDEN = '00000000-0000-4000-8000-00000000000c';

/** Rooms with their events (the encoded frames); `ann` is a member of every room but HIDDEN. */
function world(eventsByRoom: Record<string, string[]>) {
  const reads: Array<Array<{ roomId: string; sinceSeq: number | undefined }>> = [];
  const store: Pick<SyncStore, 'readSyncWindows' | 'findMessageSeqs'> = {
    async readSyncWindows(requests) {
      reads.push(requests.map(({ roomId, sinceSeq }) => ({ roomId, sinceSeq })));
      return requests.map(({ roomId, sinceSeq, maxEvents }) => {
        const events = eventsByRoom[roomId] ?? [];
        const missed = sinceSeq === undefined ? null : events.slice(sinceSeq);
        return { lastSeq: events.length, events: missed && missed.length > maxEvents ? null : missed, allPublished: true };
      });
    },
    async findMessageSeqs() {
      return new Map();
    },
  };
  const rooms: Pick<RoomAccess, 'authorize'> = {
    async authorize(roomId): Promise<RoomAccessAnswer> {
      const member = roomId !== HIDDEN;
      return { allowed: member, member, closed: false, visible_from_seq: 0 };
    },
  };
  const domain = new RoomSync(store as SyncStore, rooms, { replayMaxEvents: 100 });
  return { domain, reads };
}

const event = (seq: number, chars = 20) => `{"seq":${seq},"pad":"${'x'.repeat(chars)}"}`;
const request = (roomId: string, since_seq?: number): SyncRequest => ({ actor, room_id: roomId, since_seq, max_events: 100 });

describe('RoomSync.syncBatch', () => {
  it('answers every subscribe of a burst from one read, each with its own answer or error, in order', async () => {
    const { domain, reads } = world({ [ROOM_A]: [event(1), event(2), event(3)], [ROOM_B]: [event(1)] });
    const results = await domain.syncBatch([request(ROOM_A, 1), request(ROOM_B), request(HIDDEN), request(ROOM_B, 5)]);
    expect(results).toEqual([
      { status: 'ok', answer: { last_seq: 3, events: [event(2), event(3)], all_published: true } },
      { status: 'ok', answer: { last_seq: 1, events: null, all_published: true } },
      { status: 'error', error: expect.objectContaining({ code: 'not_found' }) },
      { status: 'error', error: expect.objectContaining({ code: 'invalid' }) },
    ]);
    // The member that may not see the room is never read.
    expect(reads).toEqual([
      [
        { roomId: ROOM_A, sinceSeq: 1 },
        { roomId: ROOM_B, sinceSeq: undefined },
        { roomId: ROOM_B, sinceSeq: 5 },
      ],
    ]);
  });

  it('defers a replay that would take the answer past its budget, but never the first one', async () => {
    const big = Array.from({ length: 90 }, (_, i) => event(i + 1, 2000));
    const { domain } = world({ [ROOM_A]: big, [ROOM_B]: big });
    const results = await domain.syncBatch([request(ROOM_A, 0), request(ROOM_B), request(ROOM_B, 0)]);
    expect(results.map((r) => r.status)).toEqual(['ok', 'ok', 'deferred']);
    // Alone, the deferred one is answered in full.
    expect((await domain.sync(request(ROOM_B, 0))).events).toHaveLength(90);
  });

  it('sync throws the error its batch of one answered', async () => {
    const { domain } = world({ [ROOM_A]: [event(1)] });
    await expect(domain.sync(request(ROOM_A, 7))).rejects.toMatchObject({ code: 'invalid' });
    await expect(domain.sync(request(HIDDEN))).rejects.toMatchObject({ code: 'not_found' });
  });
});
