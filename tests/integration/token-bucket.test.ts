import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RedisTokenBuckets } from '../../gateway/src/limits/token-bucket.js';

/**
 * The Redis bucket script with leases: tokens a gateway holds are not refilled over, so what a
 * user can spend at once, held tokens included, never passes the burst.
 */
const infra = inject('infra');
const namespace = `t${randomUUID().slice(0, 8)}`;
let redis: Redis;

// Refills the whole burst in 20 ms: any wait below makes the bucket as full as it may be.
const fast = { perSecond: 1000, burst: 20 };
const refill = () => new Promise((resolve) => setTimeout(resolve, 40));

beforeAll(() => {
  redis = new Redis(infra.redisUrl, { keyPrefix: '' });
});

afterAll(async () => {
  const keys = await redis.keys(`${namespace}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

describe('RedisTokenBuckets with leases', () => {
  it('does not refill over the tokens a gateway holds until its lease ends or it settles them', async () => {
    const gatewayA = new RedisTokenBuckets(redis, namespace, 'gateway-a');
    const gatewayB = new RedisTokenBuckets(redis, namespace, 'gateway-b');
    const user = randomUUID();
    // A spends one of five at once and holds four for 10 s.
    expect(await gatewayA.take('send', user, fast, 5, 0, 10_000)).toEqual({ granted: 5, retryAfterMs: 0 });
    await refill();
    expect((await gatewayB.take('send', user, fast, 20, 0, 10_000)).granted).toBe(16);
    await refill();
    // A's next call settles its lease (three spent, one given back): B's fifteen are still held.
    expect((await gatewayA.take('send', user, fast, 20, 1, 10_000)).granted).toBe(5);
  });

  it('refills over a lease that has ended', async () => {
    const gateway = new RedisTokenBuckets(redis, namespace, 'gateway-a');
    const other = new RedisTokenBuckets(redis, namespace, 'gateway-b');
    const user = randomUUID();
    expect((await gateway.take('send', user, fast, 5, 0, 30)).granted).toBe(5);
    await refill();
    expect((await other.take('send', user, fast, 20, 0, 0)).granted).toBe(20);
  });

  it('without a lease, takes and refills as a plain bucket', async () => {
    const buckets = new RedisTokenBuckets(redis, namespace, 'gateway-a');
    const user = randomUUID();
    const plain = { perSecond: 0.001, burst: 3 };
    const grants = [];
    for (let i = 0; i < 4; i++) grants.push((await buckets.take('send', user, plain)).granted);
    expect(grants).toEqual([1, 1, 1, 0]);
  });
});
