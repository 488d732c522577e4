import type { EphemeralEvent } from '@chat/shared';
import type { Logger } from '@chat/shared/logging';
import type { PresenceChange, PresenceRegistry } from '@chat/shared/presence';

export interface PresenceTrackerOptions {
  registry: PresenceRegistry;
  gatewayId: string;
  renewEveryMs: number;
  logger: Logger;
  /** The rooms a user shares with others: where their presence changes are announced. */
  roomIdsOf(userId: string): Promise<string[]>;
  publishSignal(roomId: string, signal: EphemeralEvent): void;
  /** The users with a socket on this gateway, whose claims are renewed (the socket server counts them). */
  localUsers(): Iterable<string>;
}

/**
 * This gateway's part of presence: claims users in the shared registry on their first socket here,
 * releases them on their last (the socket server counts sockets), renews its claims on a timer, and
 * announces online/offline to the user's rooms when the user's state changes across all gateways.
 */
export class PresenceTracker {
  private changes: PresenceChange[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: PresenceTrackerOptions) {}

  start(): void {
    this.timer = setInterval(() => {
      this.options.registry.renew(this.options.localUsers(), this.options.gatewayId).catch((error: unknown) => {
        this.options.logger.warn({ err: error }, 'presence renewal failed');
      });
    }, this.options.renewEveryMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** The user's first socket on this gateway opened. */
  claim(userId: string): void {
    this.queue('claim', userId);
  }

  /** The user's last socket on this gateway closed. */
  release(userId: string): void {
    this.queue('release', userId);
  }

  /** Changes of one turn of the event loop go to the registry together, in the order they happened. */
  private queue(kind: PresenceChange['kind'], userId: string): void {
    if (this.changes.length === 0) setImmediate(() => this.flush());
    this.changes.push({ kind, userId });
  }

  private flush(): void {
    const changes = this.changes;
    this.changes = [];
    const applied = this.options.registry.applyChanges(changes, this.options.gatewayId).then(
      (flipped) =>
        Promise.all(
          changes.map((change, i) =>
            flipped[i]
              ? this.announce(change.userId, change.kind === 'claim' ? 'online' : 'offline').catch((error: unknown) =>
                  this.options.logger.warn({ err: error, user_id: change.userId }, 'presence announcement failed'),
                )
              : undefined,
          ),
        ),
      (error: unknown) => this.options.logger.warn({ err: error, changes: changes.length }, 'presence update failed'),
    );
    this.inFlight.add(applied);
    void applied.finally(() => this.inFlight.delete(applied));
  }

  /** Resolves once every change so far is in the registry and announced (shutdown: before NATS goes). */
  async settle(): Promise<void> {
    while (this.changes.length > 0 || this.inFlight.size > 0) {
      if (this.changes.length > 0) this.flush();
      await Promise.all([...this.inFlight]);
    }
  }

  private async announce(userId: string, status: 'online' | 'offline'): Promise<void> {
    const roomIds = await this.options.roomIdsOf(userId);
    for (const roomId of roomIds) this.options.publishSignal(roomId, { type: 'presence', room_id: roomId, user_id: userId, status });
  }
}
