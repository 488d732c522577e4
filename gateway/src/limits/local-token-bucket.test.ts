import { describe, expect, it } from 'vitest';
import { LocalTokenBuckets } from './local-token-bucket.js';

describe('local token buckets', () => {
  it('refuses past the burst and says when a token is back', () => {
    const buckets = new LocalTokenBuckets({ perSecond: 10, burst: 2 });
    expect(buckets.take('u', 0).allowed).toBe(true);
    expect(buckets.take('u', 0).allowed).toBe(true);
    expect(buckets.take('u', 0)).toEqual({ allowed: false, retryAfterMs: 100 });
    expect(buckets.take('u', 100).allowed).toBe(true);
  });

  it('forgets a bucket once it has refilled, and keeps one that has not', () => {
    const buckets = new LocalTokenBuckets({ perSecond: 10, burst: 2 });
    buckets.take('a', 0);
    buckets.take('b', 0);
    buckets.take('b', 0);
    // a is back to 2 tokens after 100 ms, b after 200 ms.
    buckets.prune(150);
    expect(buckets.size).toBe(1);
    expect(buckets.take('b', 150).allowed).toBe(true);
    expect(buckets.take('b', 150).allowed).toBe(false);
    buckets.prune(10_000);
    expect(buckets.size).toBe(0);
    expect(buckets.take('a', 10_000).allowed).toBe(true);
  });
});
