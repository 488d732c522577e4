import type { RestRateLimit } from '@chat/shared';
import type { Actor } from '@chat/shared/auth';
import type { RequestHandler } from 'express';
import type { RateLimits } from '../limits/rate-limits.js';

/**
 * Spends one token of the caller's bucket for a costly action before the route runs; an empty
 * bucket answers 429 `rate_limited` with `Retry-After` (through the problem handler). The buckets
 * live in Redis, so the limit holds across gateways. Reusable for any route: mount it in front.
 */
export function rateLimited(limits: RateLimits, action: RestRateLimit): RequestHandler {
  return (_req, res, next) => {
    const actor = res.locals.actor as Actor | undefined;
    if (!actor) return next();
    limits.spend(action, actor.user_id).then(() => next(), next);
  };
}
