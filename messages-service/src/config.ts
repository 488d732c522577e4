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
  /** The relay's longest sleep when nothing wakes it (a lost notification, rows coming due). */
  OUTBOX_POLL_MS: positiveIntVar(1000),
  /** A committed event its writer has not published after this long is published by the relay. */
  OUTBOX_GRACE_MS: positiveIntVar(2000),
  /** How long the writer collects JetStream-acknowledged ids before clearing them from the outbox in one delete. */
  OUTBOX_CLEAR_MS: positiveIntVar(200),
  OUTBOX_BATCH_SIZE: positiveIntVar(500),
  /** How long the search indexer gathers events into one statement once the first has arrived. */
  SEARCH_INDEX_LINGER_MS: positiveIntVar(50),
  /** How long a search waits at most for the indexer to take in what was sent before it. */
  SEARCH_INDEX_WAIT_MS: positiveIntVar(1000),
  /** Bytes one user may upload in any 24 hours; beyond it, 429 rate_limited until older uploads age out. */
  ATTACHMENT_QUOTA_BYTES_PER_DAY: positiveIntVar(1024 * 1024 * 1024),
  /** An upload not attached to a message within this long is abandoned: the gateways' sweep deletes its bytes. */
  ATTACHMENT_UNUSED_TTL_MS: positiveIntVar(24 * 60 * 60 * 1000),
});
export type MessagesConfig = z.output<typeof MessagesConfigSchema>;

export const loadMessagesConfig = (env: NodeJS.ProcessEnv = process.env): MessagesConfig => parseEnv(MessagesConfigSchema, env);
