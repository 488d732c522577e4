import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { DEFAULT_LIMITS } from '@chat/shared';
import { authEnvShape } from '@chat/shared/auth';
import { commonEnvShape, parseEnv, portVar, positiveIntVar, redisEnvShape } from '@chat/shared/config';
import { z } from 'zod';

export const GatewayConfigSchema = z.object({
  ...commonEnvShape,
  ...authEnvShape,
  ...redisEnvShape,
  /** Names this process in the presence registry; unique per process by default. */
  GATEWAY_ID: z
    .string()
    .regex(/^[\w.-]{1,100}$/)
    .default(`${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`),
  /** A gateway that stops renewing for this long is presumed dead: its users go offline. */
  PRESENCE_TTL_MS: positiveIntVar(30_000),
  RATE_LIMIT_SENDS_PER_S: z.coerce.number().positive().default(10),
  RATE_LIMIT_SENDS_BURST: positiveIntVar(20),
  RATE_LIMIT_EDITS_PER_S: z.coerce.number().positive().default(2),
  RATE_LIMIT_EDITS_BURST: positiveIntVar(10),
  RATE_LIMIT_REACTIONS_PER_S: z.coerce.number().positive().default(5),
  RATE_LIMIT_REACTIONS_BURST: positiveIntVar(20),
  RATE_LIMIT_TYPING_PER_S: z.coerce.number().positive().default(2),
  RATE_LIMIT_TYPING_BURST: positiveIntVar(5),
  /** A socket that keeps going after this many rate-limited frames in 10 s is closed with 4008. */
  RATE_LIMIT_CLOSE_AFTER: positiveIntVar(30),
  /** Presence events, and the online list in subscribe acks, cover rooms up to this size. */
  PRESENCE_MAX_ROOM_MEMBERS: positiveIntVar(200),
  /**
   * Each room with local subscribers keeps its member ids (rooms up to this size), updated by
   * member signals and re-read after ROOM_MEMBER_LIST_TTL_MS: subscribes check membership and
   * answer who is online without a call per socket.
   */
  ROOM_MEMBER_LIST_MAX: positiveIntVar(1000),
  ROOM_MEMBER_LIST_TTL_MS: positiveIntVar(30_000),
  TYPING_THROTTLE_MS: positiveIntVar(2000),
  TYPING_TTL_MS: positiveIntVar(6000),
  GATEWAY_HTTP_PORT: portVar(8080),
  GATEWAY_WS_PORT: portVar(8081),
  GATEWAY_HOST: z.string().default('0.0.0.0'),
  /** Comma-separated origins allowed to open sockets and call REST from a browser; unset allows any. */
  ALLOWED_ORIGINS: z
    .string()
    .optional()
    .transform((v) =>
      v
        ? v
            .split(',')
            .map((s) => s.trim().replace(/\/$/, ''))
            .filter(Boolean)
        : [],
    ),
  WS_MAX_FRAME_BYTES: positiveIntVar(DEFAULT_LIMITS.frameMaxBytes),
  WS_HEARTBEAT_MS: positiveIntVar(25_000),
  /** A socket whose unsent data passes this is closed with 4009 and resumes with since_seq. */
  WS_MAX_BUFFERED_BYTES: positiveIntVar(1024 * 1024),
  REPLAY_MAX_EVENTS: positiveIntVar(1000),
  RPC_TIMEOUT_MS: positiveIntVar(5000),
  /** On SIGTERM, sockets are closed with 1012 spread over this window so clients don't reconnect at once. */
  SHUTDOWN_DRAIN_WINDOW_MS: z.coerce.number().int().nonnegative().default(5000),
  REST_MAX_BODY_BYTES: positiveIntVar(DEFAULT_LIMITS.frameMaxBytes),
  /** The socket URL browsers use, when it is not the page's host on GATEWAY_WS_PORT (e.g. behind a proxy). */
  PUBLIC_WS_URL: z.url({ protocol: /^wss?$/ }).optional(),
  ATTACHMENT_MAX_BYTES: positiveIntVar(10 * 1024 * 1024),
  /** Types as detected from the bytes; text/plain is valid UTF-8 without a known signature. */
  ATTACHMENT_ALLOWED_TYPES: z
    .string()
    .default(
      'image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain,video/mp4,audio/mpeg,audio/mp4,application/zip,' +
        'application/vnd.openxmlformats-officedocument.wordprocessingml.document,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    )
    .transform(
      (v) =>
        new Set(
          v
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
        ),
    ),
  ATTACHMENT_STORE: z.enum(['local', 's3']).default('local'),
  ATTACHMENT_DIR: z.string().default('.data/attachments'),
  S3_BUCKET: z.string().optional(),
  S3_REGION: z.string().default('us-east-1'),
  S3_ENDPOINT: z.url().optional(),
  S3_ACCESS_KEY_ID: z.string().optional(),
  S3_SECRET_ACCESS_KEY: z.string().optional(),
  S3_PREFIX: z.string().default('attachments/'),
});
export type GatewayConfig = z.output<typeof GatewayConfigSchema>;

const GatewayConfigChecked = GatewayConfigSchema.refine((c) => c.ATTACHMENT_STORE !== 's3' || c.S3_BUCKET, {
  message: 'S3_BUCKET is required when ATTACHMENT_STORE=s3',
  path: ['S3_BUCKET'],
});

export const loadGatewayConfig = (env: NodeJS.ProcessEnv = process.env): GatewayConfig => parseEnv(GatewayConfigChecked, env);
