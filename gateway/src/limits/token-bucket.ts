import type { Redis } from 'ioredis';

/**
 * Token buckets in Redis, so every gateway draws from the same bucket per user. The script reads
 * Redis' own clock, so gateways with skewed clocks still agree. A call takes up to `want` whole
 * tokens (at least one, or none and a retry time) and gives back `returned` tokens a gateway
 * took earlier and did not spend (capped at the burst, as if they had never left the bucket).
 */
const TAKE_SCRIPT = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local returned = tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate + returned)
local granted = 0
local retry = 0
if tokens >= 1 then
  granted = math.min(want, math.floor(tokens))
  tokens = tokens - granted
else
  retry = math.ceil((1 - tokens) / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate) + 1000)
return {granted, retry}
`;

export interface BucketSpec {
  perSecond: number;
  burst: number;
}

export interface TakeResult {
  allowed: boolean;
  retryAfterMs: number;
}

/** What a bucket handed out: `granted` tokens (0 = refused, retry after `retryAfterMs`). */
export interface Grant {
  granted: number;
  retryAfterMs: number;
}

/** Per-user buckets that every gateway shares. */
export interface SharedTokenBuckets {
  /** Takes up to `want` tokens (at least one, or none) and gives `returned` unspent ones back first. */
  take(bucket: string, userId: string, spec: BucketSpec, want?: number, returned?: number): Promise<Grant>;
}

type RedisWithTake = Redis & {
  chatTakeToken(key: string, ratePerMs: string, burst: string, want: string, returned: string): Promise<[number, number]>;
};

export class RedisTokenBuckets implements SharedTokenBuckets {
  private readonly redis: RedisWithTake;

  constructor(
    redis: Redis,
    private readonly namespace: string,
  ) {
    redis.defineCommand('chatTakeToken', { numberOfKeys: 1, lua: TAKE_SCRIPT });
    this.redis = redis as RedisWithTake;
  }

  async take(bucket: string, userId: string, spec: BucketSpec, want = 1, returned = 0): Promise<Grant> {
    const key = `${this.namespace}:ratelimit:${bucket}:${userId}`;
    const [granted, retry] = await this.redis.chatTakeToken(
      key,
      String(spec.perSecond / 1000),
      String(spec.burst),
      String(want),
      String(returned),
    );
    return { granted, retryAfterMs: retry };
  }
}
