import type { Actor } from '@chat/shared/auth';
import type { Logger } from '@chat/shared/logging';

/**
 * Tells the rooms service the display name a user presents, once per change per process, so
 * direct-room titles and member lists show names users chose, not their ids. Names learnt in
 * one turn of the event loop go in one call, so a reconnect storm is a few calls, not one per user.
 */
export class NameBook {
  private readonly known = new Map<string, string | null>();
  private queued = new Map<string, Actor>();

  constructor(
    private readonly send: (actors: Actor[]) => Promise<unknown>,
    private readonly logger: Logger,
    private readonly maxBatch = 500,
  ) {}

  remember(actor: Actor): void {
    if (this.known.has(actor.user_id) && this.known.get(actor.user_id) === actor.name) return;
    if (this.known.size > 100_000) this.known.clear();
    this.known.set(actor.user_id, actor.name);
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
