import type { EphemeralEvent } from '@chat/shared';
import type { Actor } from '@chat/shared/auth';
import type { Logger } from '@chat/shared/logging';
import type { PresenceRegistry } from '@chat/shared/presence';

export interface PresenceTrackerOptions {
  registry: PresenceRegistry;
  gatewayId: string;
  renewEveryMs: number;
  logger: Logger;
  /** The rooms a user shares with others: where their presence changes are announced. */
  roomIdsOf(userId: string): Promise<string[]>;
  publishSignal(roomId: string, signal: EphemeralEvent): void;
}

/**
 * This gateway's part of presence: counts local sockets per user, claims users in the shared
 * registry on their first socket, releases them on their last, renews its claims on a timer, and
 * announces online/offline to the user's rooms when the user's state changes across all gateways.
 */
export class PresenceTracker {
  private readonly local = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: PresenceTrackerOptions) {}

  start(): void {
    this.timer = setInterval(() => {
      this.options.registry.renew(this.local.keys(), this.options.gatewayId).catch((error: unknown) => {
        this.options.logger.warn({ err: error }, 'presence renewal failed');
      });
    }, this.options.renewEveryMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  connected(actor: Actor): void {
    const count = (this.local.get(actor.user_id) ?? 0) + 1;
    this.local.set(actor.user_id, count);
    if (count > 1) return;
    void this.options.registry
      .claim(actor.user_id, this.options.gatewayId)
      .then((cameOnline) => (cameOnline ? this.announce(actor.user_id, 'online') : undefined))
      .catch((error: unknown) => this.options.logger.warn({ err: error, user_id: actor.user_id }, 'presence claim failed'));
  }

  disconnected(userId: string): void {
    const count = (this.local.get(userId) ?? 1) - 1;
    if (count > 0) {
      this.local.set(userId, count);
      return;
    }
    this.local.delete(userId);
    void this.options.registry
      .release(userId, this.options.gatewayId)
      .then((wentOffline) => (wentOffline ? this.announce(userId, 'offline') : undefined))
      .catch((error: unknown) => this.options.logger.warn({ err: error, user_id: userId }, 'presence release failed'));
  }

  private async announce(userId: string, status: 'online' | 'offline'): Promise<void> {
    const roomIds = await this.options.roomIdsOf(userId);
    for (const roomId of roomIds) this.options.publishSignal(roomId, { type: 'presence', room_id: roomId, user_id: userId, status });
  }
}

/**
 * A room's member ids for the subscribe ack's `online` list, read at most once per `ttlMs` and
 * shared by concurrent subscribers (a reconnect storm subscribes thousands of sockets to the same
 * rooms). The first subscriber's identity reads the list: every subscriber is a member.
 */
export class RoomMembersCache {
  private readonly entries = new Map<string, { at: number; value: Promise<string[]> }>();

  constructor(
    private readonly ttlMs: number,
    private readonly compute: (actor: Actor, roomId: string) => Promise<string[]>,
  ) {}

  get = (actor: Actor, roomId: string): Promise<string[]> => {
    const now = Date.now();
    const cached = this.entries.get(roomId);
    if (cached && now - cached.at < this.ttlMs) return cached.value;
    const value = this.compute(actor, roomId);
    this.entries.set(roomId, { at: now, value });
    value.catch(() => this.entries.delete(roomId));
    if (this.entries.size > 10_000) for (const [key, entry] of this.entries) if (now - entry.at >= this.ttlMs) this.entries.delete(key);
    return value;
  };
}
