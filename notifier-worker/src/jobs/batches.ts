import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * Per user and room, messages waiting for a push live in a sorted set (by seq). Adding to it and
 * taking it are Lua scripts, so a message is never both in a batch being sent and left for the
 * next one. A taken batch is renamed to a key of its job, so a retried job sends the same batch.
 */
const ADD_SCRIPT = `
local batched = tonumber(redis.call('GET', KEYS[3]) or '0')
if tonumber(ARGV[1]) <= batched then return 0 end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
if redis.call('SET', KEYS[2], ARGV[3], 'NX', 'PX', ARGV[4]) then return 2 end
return 1
`;

const TAKE_SCRIPT = `
if redis.call('EXISTS', KEYS[4]) == 1 then return redis.call('ZRANGE', KEYS[4], 0, -1, 'WITHSCORES') end
redis.call('DEL', KEYS[2])
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
redis.call('RENAME', KEYS[1], KEYS[4])
redis.call('PEXPIRE', KEYS[4], ARGV[1])
local last = redis.call('ZRANGE', KEYS[4], -1, -1, 'WITHSCORES')
local batched = tonumber(redis.call('GET', KEYS[3]) or '0')
if tonumber(last[2]) > batched then redis.call('SET', KEYS[3], last[2], 'PX', ARGV[2]) end
return redis.call('ZRANGE', KEYS[4], 0, -1, 'WITHSCORES')
`;

type BatchRedis = Redis & {
  chatBatchAdd(
    pending: string,
    scheduled: string,
    batched: string,
    seq: string,
    messageId: string,
    jobId: string,
    ttl: string,
  ): Promise<number>;
  chatBatchTake(
    pending: string,
    scheduled: string,
    batched: string,
    batch: string,
    batchTtl: string,
    batchedTtl: string,
  ): Promise<string[]>;
};

export const hashOf = (...parts: string[]): string => createHash('sha1').update(parts.join('\u0000')).digest('hex').slice(0, 24);

export interface BatchEntry {
  messageId: string;
  seq: number;
}

export class PushBatches {
  private readonly redis: BatchRedis;

  constructor(
    redis: Redis,
    private readonly namespace: string,
    private readonly ttlMs: number,
  ) {
    redis.defineCommand('chatBatchAdd', { numberOfKeys: 3, lua: ADD_SCRIPT });
    redis.defineCommand('chatBatchTake', { numberOfKeys: 4, lua: TAKE_SCRIPT });
    this.redis = redis as BatchRedis;
  }

  private keys(userId: string, roomId: string) {
    // One hash tag per user and room keeps the keys of a script on one cluster slot.
    const base = `${this.namespace}:notify:{${hashOf(userId, roomId)}}`;
    return {
      pending: `${base}:pending`,
      scheduled: `${base}:scheduled`,
      batched: `${base}:batched`,
      batch: (jobId: string) => `${base}:batch:${jobId}`,
    };
  }

  /** The coalescing job of a user and room for a batch that starts with this seq. */
  jobIdFor(userId: string, roomId: string, seq: number): string {
    return `c-${hashOf(userId, roomId)}-${seq}`;
  }

  /**
   * Adds a message to the user's pending batch for the room. `schedule` is true when no job is
   * waiting for this batch yet (the caller adds one); `duplicate` when it was already pushed.
   */
  async add(userId: string, roomId: string, entry: BatchEntry): Promise<'schedule' | 'queued' | 'duplicate'> {
    const keys = this.keys(userId, roomId);
    const result = await this.redis.chatBatchAdd(
      keys.pending,
      keys.scheduled,
      keys.batched,
      String(entry.seq),
      entry.messageId,
      this.jobIdFor(userId, roomId, entry.seq),
      String(this.ttlMs),
    );
    return result === 2 ? 'schedule' : result === 1 ? 'queued' : 'duplicate';
  }

  /** Takes the pending batch for a job (or the one it took before, when the job is retried). */
  async take(userId: string, roomId: string, jobId: string): Promise<BatchEntry[]> {
    const keys = this.keys(userId, roomId);
    const flat = await this.redis.chatBatchTake(
      keys.pending,
      keys.scheduled,
      keys.batched,
      keys.batch(jobId),
      String(this.ttlMs),
      String(7 * 24 * 3600 * 1000),
    );
    const entries: BatchEntry[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) entries.push({ messageId: flat[i] as string, seq: Number(flat[i + 1]) });
    return entries;
  }

  async release(userId: string, roomId: string, jobId: string): Promise<void> {
    await this.redis.del(this.keys(userId, roomId).batch(jobId));
  }
}
