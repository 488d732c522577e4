import type { BucketSpec, TakeResult } from './token-bucket.js';

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets in this process's memory, for limits that need no agreement between gateways
 * (socket upgrades per client address): no Redis round trip before a connection is refused.
 * Full buckets are forgotten (`prune`, which the socket server's sweep calls), so the map holds
 * only keys that connected within about a refill: after a connect burst, not one bucket per user.
 */
export class LocalTokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly spec: BucketSpec) {}

  /** Keys with a bucket that has not refilled (or not been pruned since it did). */
  get size(): number {
    return this.buckets.size;
  }

  take(key: string, now = Date.now()): TakeResult {
    const perMs = this.spec.perSecond / 1000;
    const held = this.buckets.get(key);
    const tokens = held ? Math.min(this.spec.burst, held.tokens + (now - held.at) * perMs) : this.spec.burst;
    if (this.buckets.size > 100_000) this.prune(now);
    if (tokens >= 1) {
      this.buckets.set(key, { tokens: tokens - 1, at: now });
      return { allowed: true, retryAfterMs: 0 };
    }
    this.buckets.set(key, { tokens, at: now });
    return { allowed: false, retryAfterMs: Math.ceil((1 - tokens) / perMs) };
  }

  /** Forgets the buckets that have refilled: a full bucket is what an unknown key gets anyway. */
  prune(now = Date.now()): void {
    const perMs = this.spec.perSecond / 1000;
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + (now - bucket.at) * perMs >= this.spec.burst) this.buckets.delete(key);
    }
  }
}
