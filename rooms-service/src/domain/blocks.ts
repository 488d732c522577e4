import { type Block, ChatError, type Page } from '@chat/shared';
import type { Actor } from '@chat/shared/auth';
import { directRoomKey } from './direct-key.js';
import type { RoomSignals, RoomsStore } from './ports.js';

/**
 * Per-user blocks (DESIGN 10.3). A blocked user cannot open a direct room with the blocker nor
 * send into one (the rules in policy.ts), and the blocker gets no push of what they send. In
 * groups messages still flow: clients hide them with the list.
 */
export class BlocksDomain {
  constructor(
    private readonly store: RoomsStore,
    private readonly signals: RoomSignals,
  ) {}

  async block(actor: Actor, userId: string): Promise<Block> {
    if (userId === actor.user_id)
      throw ChatError.unprocessable('you cannot block yourself', [{ path: 'user_id', message: 'must not be yourself' }]);
    const blockedAt = await this.store.insertBlock(actor.user_id, userId);
    await this.refreshDirectRoom(actor.user_id, userId);
    return { user_id: userId, blocked_at: blockedAt.toISOString() };
  }

  async unblock(actor: Actor, userId: string): Promise<void> {
    if (userId === actor.user_id)
      throw ChatError.unprocessable('you cannot block yourself', [{ path: 'user_id', message: 'must not be yourself' }]);
    await this.store.deleteBlock(actor.user_id, userId);
    await this.refreshDirectRoom(actor.user_id, userId);
  }

  async list(actor: Actor): Promise<Page<Block>> {
    const rows = await this.store.listBlocks(actor.user_id);
    return { items: rows.map((r) => ({ user_id: r.user_id, blocked_at: r.blocked_at.toISOString() })), next_cursor: null };
  }

  /**
   * The messages service caches "may send" answers per room: it is told to forget the pair's
   * direct room, so a new block applies at once. Nothing is announced to clients or the host (the
   * room did not change, and the blocked user is not told).
   */
  private async refreshDirectRoom(a: string, b: string): Promise<void> {
    const roomId = await this.store.findDirectRoomId(directRoomKey(a, b));
    if (roomId) this.signals.accessChanged(roomId);
  }
}
