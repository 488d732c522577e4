import type { Redis } from 'ioredis';

/** A gateway's change to a user's presence: their first socket opened, or their last closed. */
export interface PresenceChange {
  kind: 'claim' | 'release';
  userId: string;
}

/**
 * Who has an open socket on any gateway. Each user has a sorted set of the gateways holding one of
 * their sockets, scored by when that claim expires; gateways renew their claims on a heartbeat,
 * so a crashed gateway's users go offline by themselves once its claims lapse.
 */
export class PresenceRegistry {
  constructor(
    private readonly redis: Redis,
    private readonly namespace: string,
    private readonly ttlMs: number,
  ) {}

  private key(userId: string): string {
    return `${this.namespace}:presence:${userId}`;
  }

  /**
   * Claims and releases for one gateway, applied in order in one MULTI (a burst of connects and
   * disconnects is one round trip). Each answer is true when that change flipped the user's
   * state: a claim of a user offline everywhere, or a release that left the user offline everywhere.
   */
  async applyChanges(changes: readonly PresenceChange[], gatewayId: string): Promise<boolean[]> {
    if (changes.length === 0) return [];
    const now = Date.now();
    const multi = this.redis.multi();
    const answerAt: number[] = [];
    let index = 0;
    for (const change of changes) {
      const key = this.key(change.userId);
      if (change.kind === 'claim') {
        multi
          .zremrangebyscore(key, '-inf', now)
          .zcard(key)
          .zadd(key, now + this.ttlMs, gatewayId)
          .pexpire(key, this.ttlMs * 2);
        answerAt.push(index + 1);
        index += 4;
      } else {
        multi.zrem(key, gatewayId).zcount(key, now, '+inf');
        answerAt.push(index + 1);
        index += 2;
      }
    }
    const results = (await multi.exec()) ?? [];
    return answerAt.map((at) => Number(results[at]?.[1] ?? 0) === 0);
  }

  /** Renews every claim of one gateway; called well within the TTL. */
  async renew(userIds: Iterable<string>, gatewayId: string): Promise<void> {
    const expiry = Date.now() + this.ttlMs;
    let pipeline = this.redis.pipeline();
    let queued = 0;
    for (const userId of userIds) {
      pipeline.zadd(this.key(userId), expiry, gatewayId).pexpire(this.key(userId), this.ttlMs * 2);
      if (++queued % 1000 === 0) {
        await pipeline.exec();
        pipeline = this.redis.pipeline();
      }
    }
    if (queued % 1000 !== 0) await pipeline.exec();
  }

  async isOnline(userId: string): Promise<boolean> {
    return (await this.redis.zcount(this.key(userId), Date.now(), '+inf')) > 0;
  }

  /** The subset of `userIds` that is online, in one round trip. */
  async onlineAmong(userIds: readonly string[]): Promise<string[]> {
    if (userIds.length === 0) return [];
    const now = Date.now();
    const pipeline = this.redis.pipeline();
    for (const userId of userIds) pipeline.zcount(this.key(userId), now, '+inf');
    const results = (await pipeline.exec()) ?? [];
    return userIds.filter((_, i) => Number(results[i]?.[1] ?? 0) > 0);
  }
}
