import { ChatError, type RestRateLimit } from '@chat/shared';
import type { Logger } from '@chat/shared/logging';
import type { BucketSpec, TakeResult } from './token-bucket.js';

/**
 * What a request spends; socket frames and REST calls of the same kind share one bucket per user.
 * The REST-only ones (`RestRateLimit`) are named by the routes of the REST table that spend them.
 */
export type LimitedAction = 'send' | 'edit' | 'reaction' | 'typing' | RestRateLimit;

export type RateLimitSpecs = Record<LimitedAction, BucketSpec>;

/** Per-user buckets, the same for a user on every gateway. */
export interface UserTokenBuckets {
  take(bucket: string, userId: string, spec: BucketSpec): Promise<TakeResult>;
}

/**
 * Per-user rate limits at the edge, before anything reaches a service, so nothing rejected is
 * stored. If Redis cannot answer, requests pass (and are counted): chat stays up when the limiter
 * is down.
 */
export class RateLimits {
  constructor(
    private readonly buckets: UserTokenBuckets,
    private readonly specs: RateLimitSpecs,
    private readonly logger: Logger,
    private readonly onOutcome: (action: LimitedAction, outcome: 'allowed' | 'limited' | 'limiter_unavailable') => void,
  ) {}

  /** Throws `rate_limited` with `retry_after_ms` when the user's bucket for this action is empty. */
  async spend(action: LimitedAction, userId: string): Promise<void> {
    let result: { allowed: boolean; retryAfterMs: number };
    try {
      result = await this.buckets.take(action, userId, this.specs[action]);
    } catch (error) {
      this.logger.warn({ err: error, action }, 'rate limiter unavailable; allowing');
      this.onOutcome(action, 'limiter_unavailable');
      return;
    }
    this.onOutcome(action, result.allowed ? 'allowed' : 'limited');
    if (!result.allowed) {
      throw new ChatError(
        'rate_limited',
        `too many ${action} requests; retry in ${result.retryAfterMs} ms`,
        undefined,
        result.retryAfterMs,
      );
    }
  }
}
