import type { Frame } from './connection.js';

/** Every persisted event type; `event.hidden` stands in for one the recipient may not see (joined history). */
const PERSISTED = new Set([
  'message.created',
  'message.updated',
  'message.deleted',
  'reaction.updated',
  'message.acknowledged',
  'event.hidden',
]);

interface RoomState {
  lastSeq: number | undefined;
  repairing: boolean;
}

/**
 * What became of an event: `applied` (persisted, next in seq), `live` (not persisted, passed on),
 * `duplicate` (seq already applied), `gap` (seq skipped ahead: a replay was asked for, the event is
 * dropped and arrives again in the replay), `untracked` (a room not subscribed).
 */
export type EventVerdict = 'applied' | 'live' | 'duplicate' | 'gap' | 'untracked';

/** Sends a subscribe frame (with `since_seq` when given) and resolves with its ack. */
export type SubscribeRequest = (roomId: string, sinceSeq: number | undefined) => Promise<Record<string, unknown>>;

/**
 * The subscribed rooms and the last seq applied in each: persisted events are applied once and in
 * seq order, and a gap asks for a replay from the last applied seq (one at a time per room).
 */
export class RoomSequences {
  private readonly rooms = new Map<string, RoomState>();

  constructor(private readonly subscribeRequest: SubscribeRequest) {}

  lastSeq(roomId: string): number | undefined {
    return this.rooms.get(roomId)?.lastSeq;
  }

  roomIds(): IterableIterator<string> {
    return this.rooms.keys();
  }

  /** Tracks a room (a given `sinceSeq` overrides what is known) and subscribes. */
  subscribe(roomId: string, sinceSeq?: number): Promise<Record<string, unknown>> {
    const room = this.rooms.get(roomId) ?? { lastSeq: sinceSeq, repairing: false };
    if (sinceSeq !== undefined) room.lastSeq = sinceSeq;
    this.rooms.set(roomId, room);
    return this.resubscribe(roomId);
  }

  /** Asks for everything after the last applied seq; a room seen for the first time starts at the ack's. */
  async resubscribe(roomId: string): Promise<Record<string, unknown>> {
    const ack = await this.subscribeRequest(roomId, this.rooms.get(roomId)?.lastSeq);
    const current = this.rooms.get(roomId);
    if (current && current.lastSeq === undefined) current.lastSeq = Number(ack.last_seq);
    return ack;
  }

  drop(roomId: string): void {
    this.rooms.delete(roomId);
  }

  accept(frame: Frame): EventVerdict {
    const roomId = String(frame.room_id);
    const room = this.rooms.get(roomId);
    if (!room) return 'untracked';
    if (!PERSISTED.has(frame.type) || typeof frame.seq !== 'number') return 'live';
    const last = room.lastSeq ?? frame.seq - 1;
    if (frame.seq <= last) return 'duplicate';
    if (frame.seq > last + 1) {
      this.repair(roomId, room);
      return 'gap';
    }
    room.lastSeq = frame.seq;
    return 'applied';
  }

  private repair(roomId: string, room: RoomState): void {
    if (room.repairing) return;
    room.repairing = true;
    this.resubscribe(roomId)
      .catch(() => undefined)
      .finally(() => {
        room.repairing = false;
      });
  }
}
