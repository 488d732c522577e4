import { DEFAULT_LIMITS } from '@chat/shared';
import { commonEnvShape, databaseEnvShape, parseEnv, portVar, positiveIntVar } from '@chat/shared/config';
import { z } from 'zod';

export const MessagesConfigSchema = z.object({
  ...commonEnvShape,
  ...databaseEnvShape,
  MESSAGES_HTTP_PORT: portVar(8092),
  RPC_TIMEOUT_MS: positiveIntVar(5000),
  MESSAGE_MAX_CHARS: positiveIntVar(DEFAULT_LIMITS.messageBodyMaxChars),
  /** A subscriber further behind than this gets `resync` instead of a replay. */
  REPLAY_MAX_EVENTS: positiveIntVar(1000),
  /** The relay wakes on every commit; this poll only covers a lost wake-up. */
  MAX_DISTINCT_REACTIONS: positiveIntVar(50),
  /** How long an "allowed" membership answer is reused (removals invalidate it at once). */
  MEMBERSHIP_CACHE_MS: positiveIntVar(30_000),
  /** Sends stored in one transaction at most; sends arriving during a commit join the next batch. */
  SEND_BATCH_MAX: positiveIntVar(200),
  SEND_BATCH_PARALLEL: positiveIntVar(1),
  OUTBOX_POLL_MS: positiveIntVar(1000),
  OUTBOX_BATCH_SIZE: positiveIntVar(500),
});
export type MessagesConfig = z.output<typeof MessagesConfigSchema>;

export const loadMessagesConfig = (env: NodeJS.ProcessEnv = process.env): MessagesConfig => parseEnv(MessagesConfigSchema, env);
