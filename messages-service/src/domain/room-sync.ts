import { ChatError, isChatError, replyToOfEvent, visibleEvent } from '@chat/shared';
import { RPC_ANSWER_BUDGET_CHARS, type SyncAnswer, type SyncRequest, type SyncResult } from '@chat/shared/rpc';
import type { MessageStore } from './ports.js';
import { type RoomAccess, requireAccess } from './room-access.js';

/** What this room log reads for resuming subscribers. */
export type SyncStore = Pick<MessageStore, 'readSyncWindows' | 'findMessageSeqs' | 'readLastSeq' | 'readLastSeqs' | 'readRoomLog'>;

/**
 * Where rooms stand and what a resuming subscriber missed (DESIGN 6): a burst of subscribes is
 * answered from one read, joined history shows a late joiner only what follows their joining.
 */
export class RoomSync {
  constructor(
    private readonly store: SyncStore,
    private readonly rooms: Pick<RoomAccess, 'authorize'>,
    private readonly options: { replayMaxEvents: number },
  ) {}

  async lastSeq(roomId: string): Promise<number> {
    return this.store.readLastSeq(roomId);
  }

  async lastSeqs(roomIds: string[]): Promise<Record<string, number>> {
    const found = await this.store.readLastSeqs(roomIds);
    return Object.fromEntries(roomIds.map((id) => [id, found.get(id) ?? 0]));
  }

  roomLog(roomId: string, afterSeq: number, limit: number): Promise<Array<{ event: string; reply_to_seq: number | null }>> {
    return this.store.readRoomLog(roomId, afterSeq, limit);
  }

  async sync(request: SyncRequest): Promise<SyncAnswer> {
    const [result] = await this.syncBatch([request]);
    if (result?.status === 'ok') return result.answer;
    throw result?.status === 'error' ? ChatError.fromBody(result.error) : new ChatError('internal', 'sync answered nothing');
  }

  /**
   * Subscribes in a burst answered from one read of the store. Replayed events fill the answer
   * up to RPC_ANSWER_BUDGET_CHARS; an item past that is `deferred`, for the caller to ask alone.
   */
  async syncBatch(requests: SyncRequest[]): Promise<SyncResult[]> {
    // A gateway checks membership only for rooms of shared history; joined history needs the member's start.
    const starts = await Promise.all(
      requests.map(async (request) => {
        if (request.membership_checked) return 0;
        try {
          return (await requireAccess(this.rooms, request.room_id, request.actor, 'room.read')).visible_from_seq;
        } catch (error) {
          if (isChatError(error)) return error;
          throw error;
        }
      }),
    );
    const readable = requests.flatMap((request, i) => {
      const visibleFrom = starts[i];
      if (typeof visibleFrom !== 'number') return [];
      // Joined history: a replay from before the member joined begins where they joined, with no resync.
      const from = request.since_seq === undefined ? undefined : Math.max(request.since_seq, visibleFrom);
      return [
        {
          index: i,
          visibleFrom,
          roomId: request.room_id,
          sinceSeq: from,
          maxEvents: Math.min(request.max_events, this.options.replayMaxEvents),
        },
      ];
    });
    const windows = await this.store.readSyncWindows(readable);
    const results: SyncResult[] = starts.map((start) =>
      typeof start === 'number' ? { status: 'deferred' } : { status: 'error', error: start.toEnvelopeBody() },
    );
    let replayChars = 0;
    for (const [k, read] of readable.entries()) {
      const window = windows[k];
      const request = requests[read.index];
      if (!window || !request) continue;
      if (request.since_seq !== undefined && request.since_seq > window.lastSeq) {
        const error = ChatError.invalid(`since_seq is beyond the room's last seq (${window.lastSeq})`, [
          { path: 'since_seq', message: 'beyond last seq' },
        ]);
        results[read.index] = { status: 'error', error: error.toEnvelopeBody() };
        continue;
      }
      const chars = window.events?.reduce((sum, event) => sum + event.length, 0) ?? 0;
      // The first replay always fits: alone, an item is answered as `sync` would answer it.
      if (replayChars > 0 && replayChars + chars > RPC_ANSWER_BUDGET_CHARS) continue;
      replayChars += chars;
      const events =
        read.visibleFrom > 0 && window.events ? await this.visibleEvents(read.roomId, window.events, read.visibleFrom) : window.events;
      results[read.index] = {
        status: 'ok',
        answer: {
          last_seq: window.lastSeq,
          events,
          all_published: window.allPublished,
          ...(read.visibleFrom > 0 ? { visible_from_seq: read.visibleFrom } : {}),
        },
      };
    }
    return results;
  }

  /** Replayed events as a late joiner may see them: stand-ins for earlier ones, no `reply_to` to an earlier message. */
  private async visibleEvents(roomId: string, events: string[], visibleFrom: number): Promise<string[]> {
    const targetOf = events.map(replyToOfEvent);
    const targets = [...new Set(targetOf.filter((id): id is string => id !== undefined))];
    const seqs = targets.length ? await this.store.findMessageSeqs(roomId, targets) : new Map<string, number>();
    return events.map((event, i) => {
      const target = targetOf[i];
      // A target not found (cannot happen: reply_to is checked at send) is hidden like an earlier one.
      return visibleEvent(event, visibleFrom, target === undefined ? undefined : (seqs.get(target) ?? 0));
    });
  }
}
