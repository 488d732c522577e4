import { DEFAULT_LIMITS } from '@chat/shared';
import { commonEnvShape, databaseEnvShape, parseEnv, portVar, positiveIntVar } from '@chat/shared/config';
import { z } from 'zod';

export const RoomsConfigSchema = z.object({
  ...commonEnvShape,
  ...databaseEnvShape,
  ROOMS_HTTP_PORT: portVar(8091),
  RPC_TIMEOUT_MS: positiveIntVar(5000),
  GROUP_MAX_MEMBERS: positiveIntVar(DEFAULT_LIMITS.groupMaxMembers),
  /** Host events left in the activity outbox this long (their process died) are recorded again; checked as often. */
  ACTIVITY_OUTBOX_SWEEP_MS: positiveIntVar(10_000),
});
export type RoomsConfig = z.output<typeof RoomsConfigSchema>;

export const loadRoomsConfig = (env: NodeJS.ProcessEnv = process.env): RoomsConfig => parseEnv(RoomsConfigSchema, env);
