import type { Redis } from 'ioredis';

/**
 * Token buckets in Redis, so every gateway draws from the same bucket per user. The script reads
 * Redis' own clock, so gateways with skewed clocks still agree.
 */
const TAKE_SCRIPT = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local allowed = 0
local retry = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry = math.ceil((1 - tokens) / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate) + 1000)
return {allowed, retry}
`;

export interface BucketSpec {
  perSecond: number;
  burst: number;
}

export interface TakeResult {
  allowed: boolean;
  retryAfterMs: number;
}

type RedisWithTake = Redis & { chatTakeToken(key: string, ratePerMs: string, burst: string): Promise<[number, number]> };

export class RedisTokenBuckets {
  private readonly redis: RedisWithTake;

  constructor(
    redis: Redis,
    private readonly namespace: string,
  ) {
    redis.defineCommand('chatTakeToken', { numberOfKeys: 1, lua: TAKE_SCRIPT });
    this.redis = redis as RedisWithTake;
  }

  async take(bucket: string, userId: string, spec: BucketSpec): Promise<TakeResult> {
    const key = `${this.namespace}:ratelimit:${bucket}:${userId}`;
    const [allowed, retry] = await this.redis.chatTakeToken(key, String(spec.perSecond / 1000), String(spec.burst));
    return { allowed: allowed === 1, retryAfterMs: retry };
  }
}
