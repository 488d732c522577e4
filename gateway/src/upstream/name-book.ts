import type { Actor } from '@chat/shared/auth';
import type { Logger } from '@chat/shared/logging';

/**
 * Tells the rooms service the display name a user presents, once per change per process, so
 * direct-room titles and member lists show names users chose, not their ids.
 */
export class NameBook {
  private readonly known = new Map<string, string | null>();

  constructor(
    private readonly send: (actor: Actor) => Promise<unknown>,
    private readonly logger: Logger,
  ) {}

  remember(actor: Actor): void {
    if (this.known.has(actor.user_id) && this.known.get(actor.user_id) === actor.name) return;
    if (this.known.size > 100_000) this.known.clear();
    this.known.set(actor.user_id, actor.name);
    this.send(actor).catch((error: unknown) => {
      this.known.delete(actor.user_id);
      this.logger.warn({ err: error, user_id: actor.user_id }, 'could not record display name');
    });
  }
}
