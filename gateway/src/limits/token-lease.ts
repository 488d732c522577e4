import { LRUCache } from 'lru-cache';
import type { BucketSpec, Grant, SharedTokenBuckets, TakeResult } from './token-bucket.js';

interface Lease {
  /** Tokens taken from the shared bucket and not spent yet. */
  tokens: number;
  /** When the lease ends: tokens left then go back with the user's next call. */
  until: number;
  /** How many tokens the last call asked for. */
  size: number;
}

export interface TokenLeaseOptions {
  /** Longest a gateway keeps tokens it took and did not spend. */
  leaseMs: number;
  /** Most tokens one call takes (1 = no leasing: one shared-bucket call per request). */
  maxLease: number;
  /** Users whose leases are kept; the least recently active are forgotten past it. */
  maxLeases?: number;
  now?: () => number;
}

const ALLOWED: TakeResult = { allowed: true, retryAfterMs: 0 };

/**
 * Spends a user's shared (Redis) tokens a few at a time from this gateway's memory, so a user who
 * sends steadily costs one Redis round trip per lease instead of one per request. A lease starts
 * at one token and doubles while the user spends a whole lease before it ends (at most
 * `maxLease`, and a quarter of the burst, so a small bucket is never hoarded); one that ends with
 * tokens left halves, and the tokens go back with the next call. A call never takes more tokens
 * than the bucket has, and the bucket does not refill over the tokens a lease holds here, so a
 * user is limited exactly as without leases; the user's sockets on other gateways see at most
 * `maxLease - 1` fewer tokens for at most `leaseMs`. The lease is timed from before its call, so
 * it ends here before the bucket stops counting its tokens as held.
 */
export class LeasedTokenBuckets {
  private readonly leases: LRUCache<string, Lease>;
  /** A user's call to the shared bucket in flight: their other requests wait for its lease. */
  private readonly asking = new Map<string, Promise<Grant>>();
  private readonly now: () => number;

  constructor(
    private readonly shared: SharedTokenBuckets,
    private readonly options: TokenLeaseOptions,
  ) {
    this.leases = new LRUCache({ max: options.maxLeases ?? 100_000 });
    this.now = options.now ?? Date.now;
  }

  async take(bucket: string, userId: string, spec: BucketSpec): Promise<TakeResult> {
    const key = `${bucket}:${userId}`;
    // One call per user at a time: concurrent ones would each take a lease and hoard the bucket.
    // The others wait for its lease, or share its failure.
    for (let pending = this.asking.get(key); pending; pending = this.asking.get(key)) await pending;
    const lease = this.leases.get(key);
    const now = this.now();
    if (lease && lease.tokens >= 1 && now < lease.until) {
      lease.tokens -= 1;
      return ALLOWED;
    }
    const cap = Math.max(1, Math.min(this.options.maxLease, Math.floor(spec.burst / 4)));
    let want = 1;
    let returned = 0;
    if (lease) {
      if (lease.tokens >= 1) {
        // Ended with tokens left: the user is slower than the lease; they go back now.
        returned = lease.tokens;
        lease.tokens = 0;
        want = Math.max(1, Math.floor(lease.size / 2));
      } else {
        want = now < lease.until ? Math.min(cap, lease.size * 2) : Math.min(cap, lease.size);
      }
    }
    const asking = this.askShared(key, bucket, userId, spec, want, returned);
    this.asking.set(key, asking);
    try {
      const grant = await asking;
      return grant.granted === 0 ? { allowed: false, retryAfterMs: grant.retryAfterMs } : ALLOWED;
    } finally {
      if (this.asking.get(key) === asking) this.asking.delete(key);
    }
  }

  /** One call to the shared bucket. The lease is recorded before it settles, so a waiter wakes to it. */
  private async askShared(key: string, bucket: string, userId: string, spec: BucketSpec, want: number, returned: number): Promise<Grant> {
    // The lease is timed from before the call, so it ends before the shared bucket could think it did.
    const startedAt = this.now();
    let grant: Grant;
    try {
      grant = await this.shared.take(bucket, userId, spec, want, returned, this.options.leaseMs);
    } catch (error) {
      // Not given back after all: they stay here, to go back with the next call.
      const held = this.leases.get(key);
      if (held) held.tokens += returned;
      throw error;
    }
    const held = this.leases.get(key) ?? { tokens: 0, until: 0, size: 1 };
    held.tokens += Math.max(0, grant.granted - 1);
    held.until = startedAt + this.options.leaseMs;
    // Refused: the bucket is dry, so what follows is asked one token at a time.
    held.size = grant.granted === 0 ? 1 : want;
    this.leases.set(key, held);
    return grant;
  }
}
