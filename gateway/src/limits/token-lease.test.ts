import { describe, expect, it } from 'vitest';
import type { BucketSpec, Grant, SharedTokenBuckets } from './token-bucket.js';
import { LeasedTokenBuckets } from './token-lease.js';

/**
 * The Redis script's arithmetic, in memory, on a clock the test moves; without its held-token
 * records (tests/integration/token-bucket.test.ts runs the script itself).
 */
class FakeSharedBuckets implements SharedTokenBuckets {
  readonly tokens = new Map<string, { tokens: number; at: number }>();
  calls = 0;
  constructor(readonly clock: { now: number }) {}

  async take(bucket: string, userId: string, spec: BucketSpec, want = 1, returned = 0): Promise<Grant> {
    this.calls += 1;
    const key = `${bucket}:${userId}`;
    const state = this.tokens.get(key) ?? { tokens: spec.burst, at: this.clock.now };
    let tokens = Math.min(spec.burst, state.tokens + ((this.clock.now - state.at) * spec.perSecond) / 1000 + returned);
    let granted = 0;
    let retryAfterMs = 0;
    if (tokens >= 1) {
      granted = Math.min(want, Math.floor(tokens));
      tokens -= granted;
    } else retryAfterMs = Math.ceil((1 - tokens) / (spec.perSecond / 1000));
    this.tokens.set(key, { tokens, at: this.clock.now });
    return { granted, retryAfterMs };
  }
}

// A refill too slow to matter within a test: what is allowed is what the burst holds.
const noRefill: BucketSpec = { perSecond: 0.001, burst: 20 };
const setup = (maxLease = 8) => {
  const clock = { now: 1_000_000 };
  const shared = new FakeSharedBuckets(clock);
  const gateway = () => new LeasedTokenBuckets(shared, { leaseMs: 1000, maxLease, now: () => clock.now });
  return { clock, shared, gateway };
};
const spendUntilRefused = async (buckets: LeasedTokenBuckets, spec: BucketSpec) => {
  let allowed = 0;
  while ((await buckets.take('send', 'ann', spec)).allowed) allowed += 1;
  return allowed;
};

describe('LeasedTokenBuckets', () => {
  it('allows exactly the burst to a user on one gateway, with fewer shared calls than requests, then refuses with a retry time', async () => {
    const { shared, gateway } = setup();
    const buckets = gateway();
    expect(await spendUntilRefused(buckets, noRefill)).toBe(20);
    expect(shared.calls).toBeLessThan(12);
    const refused = await buckets.take('send', 'ann', noRefill);
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterMs).toBeGreaterThan(0);
  });

  it('gives tokens not spent by the end of a lease back to the shared bucket with the next call', async () => {
    const { clock, shared, gateway } = setup();
    const buckets = gateway();
    // Leases of 1, 2 and 4: four requests take 7 tokens, 3 stay on this gateway.
    for (let i = 0; i < 4; i++) expect((await buckets.take('send', 'ann', noRefill)).allowed).toBe(true);
    expect(shared.tokens.get('send:ann')?.tokens).toBe(13);
    clock.now += 1001;
    expect((await buckets.take('send', 'ann', noRefill)).allowed).toBe(true);
    // The 3 came back and a lease of 2 (halved) went out: 5 spent, 1 held, 14 left.
    expect(shared.tokens.get('send:ann')?.tokens).toBeCloseTo(14, 2);
  });

  it('never lets a user spend more than the burst across two gateways', async () => {
    const { gateway } = setup();
    const [a, b] = [gateway(), gateway()];
    let allowed = 0;
    for (let i = 0; i < 60; i++) if ((await (i % 3 === 0 ? b : a).take('send', 'ann', noRefill)).allowed) allowed += 1;
    expect(allowed).toBe(20);
  });

  it('asks the shared bucket for every request of a small bucket, and of any bucket when leasing is off', async () => {
    const small = setup();
    expect(await spendUntilRefused(small.gateway(), { perSecond: 0.001, burst: 5 })).toBe(5);
    expect(small.shared.calls).toBe(6);
    const off = setup(1);
    expect(await spendUntilRefused(off.gateway(), noRefill)).toBe(20);
    expect(off.shared.calls).toBe(21);
  });

  it('allows exactly the burst to a burst of concurrent requests of one user', async () => {
    const { gateway } = setup();
    const buckets = gateway();
    // The first request leaves a spent lease behind, so each of the next ones would ask for two.
    expect((await buckets.take('send', 'ann', noRefill)).allowed).toBe(true);
    const answers = await Promise.all(Array.from({ length: 59 }, () => buckets.take('send', 'ann', noRefill)));
    expect(answers.filter((a) => a.allowed)).toHaveLength(19);
  });

  it('answers concurrent requests from the lease of the one call in flight, not with a call each', async () => {
    const { shared, gateway } = setup();
    const buckets = gateway();
    expect((await buckets.take('send', 'ann', noRefill)).allowed).toBe(true);
    const answers = await Promise.all(Array.from({ length: 10 }, () => buckets.take('send', 'ann', noRefill)));
    expect(answers.every((a) => a.allowed)).toBe(true);
    // Leases of 2, 4 and 8 cover the ten.
    expect(shared.calls - 1).toBe(3);
  });

  it('lets the requests waiting for a failed call share its failure, and keeps the tokens it was giving back', async () => {
    const { clock, shared, gateway } = setup();
    const buckets = gateway();
    // Leases of 1, 2 and 4: four requests, 3 tokens held, then the lease ends unspent.
    for (let i = 0; i < 4; i++) await buckets.take('send', 'ann', noRefill);
    clock.now += 1001;
    const take = shared.take.bind(shared);
    let failing = true;
    const returnedSeen: number[] = [];
    shared.take = async (bucket, userId, spec, want, returned = 0) => {
      shared.calls += failing ? 1 : 0;
      if (failing) throw new Error('redis down');
      returnedSeen.push(returned);
      return take(bucket, userId, spec, want, returned);
    };
    const callsBefore = shared.calls;
    const outcomes = await Promise.allSettled(Array.from({ length: 5 }, () => buckets.take('send', 'ann', noRefill)));
    expect(outcomes.map((o) => o.status)).toEqual(Array(5).fill('rejected'));
    expect(shared.calls - callsBefore).toBe(1);
    failing = false;
    expect((await buckets.take('send', 'ann', noRefill)).allowed).toBe(true);
    expect(returnedSeen).toEqual([3]);
  });

  it('keeps users and actions apart', async () => {
    const { gateway } = setup();
    const buckets = gateway();
    expect(await spendUntilRefused(buckets, noRefill)).toBe(20);
    expect((await buckets.take('send', 'ben', noRefill)).allowed).toBe(true);
    expect((await buckets.take('edit', 'ann', noRefill)).allowed).toBe(true);
  });
});
