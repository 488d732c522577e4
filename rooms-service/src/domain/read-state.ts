import { ChatError, type Page, type ReadState, type Receipt, type UnreadSummary } from '@chat/shared';
import type { Actor } from '@chat/shared/auth';
import type { RoomSignals, RoomsStore, SequenceSource } from './ports.js';

/**
 * Read cursors and what follows from them. Unread = messages from others, not deleted, with a seq
 * above the member's cursor; always answered as absolute numbers. Receipts are derived from the
 * cursors, never stored per message.
 */
export class ReadStateDomain {
  constructor(
    private readonly store: RoomsStore,
    private readonly signals: RoomSignals,
    private readonly sequences: SequenceSource,
  ) {}

  async markRead(actor: Actor, roomId: string, seq: number): Promise<ReadState> {
    await this.requireMember(actor, roomId);
    const lastSeq = await this.sequences.lastSeq(roomId);
    if (seq > lastSeq) {
      throw ChatError.invalid(`seq is beyond the room's last seq (${lastSeq})`, [{ path: 'seq', message: `at most ${lastSeq}` }]);
    }
    const cursor = await this.store.advanceReadCursor(roomId, actor.user_id, seq);
    if (!cursor) throw ChatError.notFound('room');
    if (cursor.moved) this.signals.publish(roomId, { type: 'read', room_id: roomId, user_id: actor.user_id, seq: cursor.lastReadSeq });
    return {
      room_id: roomId,
      last_read_seq: cursor.lastReadSeq,
      unread_count: await this.store.countUnread(roomId, actor.user_id, cursor.lastReadSeq),
    };
  }

  async receipts(actor: Actor, roomId: string, seq: number, senderId: string): Promise<Page<Receipt>> {
    await this.requireMember(actor, roomId);
    const readers = await this.store.readersAtOrAfter(roomId, seq, senderId);
    return { items: readers.map((r) => ({ user_id: r.user_id, name: r.name ?? null, last_read_seq: r.last_read_seq })), next_cursor: null };
  }

  private async requireMember(actor: Actor, roomId: string): Promise<void> {
    if ((await this.store.findMemberRole(roomId, actor.user_id)) === null) throw ChatError.notFound('room');
  }

  async unreadSummary(actor: Actor): Promise<UnreadSummary> {
    const rooms = await this.store.unreadByRoom(actor.user_id);
    return { total: rooms.reduce((sum, r) => sum + r.unread_count, 0), rooms };
  }
}
