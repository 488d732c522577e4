import type { Redis } from 'ioredis';

/**
 * Token buckets in Redis, so every gateway draws from the same bucket per user. The script reads
 * Redis' own clock, so gateways with skewed clocks still agree. A call takes up to `want` whole
 * tokens (at least one, or none and a retry time) and gives back `returned` tokens the caller took
 * earlier and did not spend. Tokens a gateway took beyond the one it spends at once are recorded
 * as held by it (`held:<gateway>` = "<tokens> <until>") until its lease ends: the bucket does not
 * refill over them, so what the user can spend at once, held tokens included, is at most the
 * burst. A gateway's next call settles its earlier lease (each held token is spent or returned).
 */
const TAKE_SCRIPT = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local returned = tonumber(ARGV[4])
local own = 'held:' .. ARGV[5]
local leaseMs = tonumber(ARGV[6])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HGETALL', KEYS[1])
local tokens = burst
local ts = now
local heldElsewhere = 0
for i = 1, #state, 2 do
  local field, value = state[i], state[i + 1]
  if field == 'tokens' then
    tokens = tonumber(value)
  elseif field == 'ts' then
    ts = tonumber(value)
  elseif field ~= own then
    local count, untilMs = string.match(value, '^(%d+) (%d+)$')
    if count and tonumber(untilMs) > now then
      heldElsewhere = heldElsewhere + tonumber(count)
    else
      redis.call('HDEL', KEYS[1], field)
    end
  end
end
-- Every lease spends one token at once, so what is held elsewhere stays below the burst (a burst
-- lowered by a redeploy aside, for which one token is still left to refill: a retry time holds).
tokens = math.min(math.max(1, burst - heldElsewhere), tokens + math.max(0, now - ts) * rate + returned)
local granted = 0
local retry = 0
if tokens >= 1 then
  granted = math.min(want, math.floor(tokens))
  tokens = tokens - granted
else
  retry = math.ceil((1 - tokens) / rate)
end
if granted > 1 and leaseMs > 0 then
  redis.call('HSET', KEYS[1], own, (granted - 1) .. ' ' .. (now + leaseMs))
else
  redis.call('HDEL', KEYS[1], own)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.max(math.ceil(burst / rate), leaseMs) + 1000)
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
  /**
   * Takes up to `want` tokens (at least one, or none) and gives `returned` unspent ones back first.
   * Tokens beyond the first are held by the caller for `leaseMs`, and the bucket does not refill
   * over them meanwhile.
   */
  take(bucket: string, userId: string, spec: BucketSpec, want?: number, returned?: number, leaseMs?: number): Promise<Grant>;
}

type RedisWithTake = Redis & {
  chatTakeToken(
    key: string,
    ratePerMs: string,
    burst: string,
    want: string,
    returned: string,
    holder: string,
    leaseMs: string,
  ): Promise<[number, number]>;
};

export class RedisTokenBuckets implements SharedTokenBuckets {
  private readonly redis: RedisWithTake;

  /** `holder` names this gateway in the buckets' held records: unique per process. */
  constructor(
    redis: Redis,
    private readonly namespace: string,
    private readonly holder: string,
  ) {
    redis.defineCommand('chatTakeToken', { numberOfKeys: 1, lua: TAKE_SCRIPT });
    this.redis = redis as RedisWithTake;
  }

  async take(bucket: string, userId: string, spec: BucketSpec, want = 1, returned = 0, leaseMs = 0): Promise<Grant> {
    const key = `${this.namespace}:ratelimit:${bucket}:${userId}`;
    const [granted, retry] = await this.redis.chatTakeToken(
      key,
      String(spec.perSecond / 1000),
      String(spec.burst),
      String(want),
      String(returned),
      this.holder,
      String(leaseMs),
    );
    return { granted, retryAfterMs: retry };
  }
}
