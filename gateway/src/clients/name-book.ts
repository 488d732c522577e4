import type { Actor } from '@chat/shared/auth';
import type { Logger } from '@chat/shared/logging';
import { LRUCache } from 'lru-cache';

const NO_NAME = '';

/**
 * Tells the rooms service the display name a user presents, once per change per process, so
 * direct-room titles and member lists show names users chose, not their ids. Names learnt in
 * one turn of the event loop go in one call, so a reconnect storm is a few calls, not one per user.
 * The names known are an LRU, so a full book forgets its coldest users, not everyone at once.
 */
export class NameBook {
  /** user id → the name last sent; a user without a name as NO_NAME (names are never empty), not a wrapper object per user. */
  private readonly known: LRUCache<string, string>;
  private queued = new Map<string, Actor>();

  constructor(
    private readonly send: (actors: Actor[]) => Promise<unknown>,
    private readonly logger: Logger,
    private readonly maxBatch = 500,
    maxKnown = 100_000,
  ) {
    this.known = new LRUCache({ max: maxKnown });
  }

  remember(actor: Actor): void {
    const name = actor.name ?? NO_NAME;
    if (this.known.get(actor.user_id) === name) return;
    this.known.set(actor.user_id, name);
    if (this.queued.size === 0) setImmediate(() => this.flush());
    this.queued.set(actor.user_id, actor);
  }

  private flush(): void {
    const actors = [...this.queued.values()];
    this.queued = new Map();
    for (let i = 0; i < actors.length; i += this.maxBatch) {
      const chunk = actors.slice(i, i + this.maxBatch);
      this.send(chunk).catch((error: unknown) => {
        // Forgotten, so the user's next connect tries again.
        for (const actor of chunk) this.known.delete(actor.user_id);
        this.logger.warn({ err: error, users: chunk.length }, 'could not record display names');
      });
    }
  }
}
