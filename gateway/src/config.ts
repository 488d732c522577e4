import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { DEFAULT_LIMITS } from '@chat/shared';
import { authEnvShape } from '@chat/shared/auth';
import { commonEnvShape, parseEnv, portVar, positiveIntVar, redisEnvShape } from '@chat/shared/config';
import { z } from 'zod';

/** RATE_LIMIT_<NAME>_PER_S and RATE_LIMIT_<NAME>_BURST: the refill rate and size of one token bucket. */
function rateLimitVars<N extends string>(name: N, perSecond: number, burst: number) {
  return {
    [`RATE_LIMIT_${name}_PER_S`]: z.coerce.number().positive().default(perSecond),
    [`RATE_LIMIT_${name}_BURST`]: positiveIntVar(burst),
  } as Record<`RATE_LIMIT_${N}_PER_S` | `RATE_LIMIT_${N}_BURST`, z.ZodDefault<z.ZodCoercedNumber<unknown>>>;
}

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
  ...rateLimitVars('SENDS', 10, 20),
  ...rateLimitVars('EDITS', 2, 10),
  ...rateLimitVars('REACTIONS', 5, 20),
  ...rateLimitVars('TYPING', 2, 5),
  /**
   * A socket refused more than this many times within 10 s for frames it sent after the
   * retry_after_ms it was given had passed is closed with 4008 (bursts are never closed).
   */
  RATE_LIMIT_CLOSE_AFTER: positiveIntVar(30),
  /**
   * Most of a user's tokens a gateway takes from Redis in one call and spends locally (1 = one
   * Redis call per request, exact across gateways); unspent ones go back after RATE_LIMIT_LEASE_MS.
   */
  RATE_LIMIT_LEASE_MAX: positiveIntVar(8),
  RATE_LIMIT_LEASE_MS: positiveIntVar(1000),
  /** Costly REST actions per user, shared by every gateway (Redis); over it, 429 rate_limited with Retry-After. */
  ...rateLimitVars('UPLOADS', 1, 20),
  ...rateLimitVars('ROOM_CREATES', 1, 30),
  ...rateLimitVars('SEARCHES', 2, 20),
  ...rateLimitVars('DEVICE_REGISTRATIONS', 0.2, 10),
  /** Socket upgrades per user, shared by every gateway (Redis); over it, HTTP 429. */
  ...rateLimitVars('CONNECTS', 10, 30),
  /** Socket upgrades per client address, counted by each gateway; over it, HTTP 429. */
  ...rateLimitVars('CONNECTS_PER_ADDRESS', 100, 300),
  /**
   * Behind a proxy: the header it sets with the client's address (e.g. x-forwarded-for, whose
   * last entry is used). Unset: the connection's own address. Never set it without such a proxy,
   * or clients can name any address they like.
   */
  CLIENT_ADDRESS_HEADER: z
    .string()
    .regex(/^[a-z0-9-]{1,64}$/i)
    .transform((v) => v.toLowerCase())
    .optional(),
  /** Requests a socket may have unanswered; more get a rate_limited error (the socket stays open). */
  WS_MAX_FRAMES_IN_FLIGHT: positiveIntVar(100),
  /** Rooms one socket may be subscribed to; a subscribe beyond it gets a conflict error. */
  WS_MAX_ROOMS_PER_SOCKET: positiveIntVar(1000),
  /** Sockets one user may hold on one gateway; more are closed with 4008 at once. */
  WS_MAX_SOCKETS_PER_USER: positiveIntVar(20),
  /** Presence events, and the online list in subscribe acks, cover rooms up to this size. */
  PRESENCE_MAX_ROOM_MEMBERS: positiveIntVar(200),
  /**
   * Each room with local subscribers keeps its member ids (rooms up to this size), updated by
   * member signals and re-read after ROOM_MEMBER_LIST_TTL_MS: subscribes check membership and
   * answer who is online without a call per socket.
   */
  ROOM_MEMBER_LIST_MAX: positiveIntVar(1000),
  ROOM_MEMBER_LIST_TTL_MS: positiveIntVar(30_000),
  /**
   * A room event that arrives before a lower seq (two messages replicas publish concurrently) is
   * held this long for the lower ones to arrive, then the gap is read from the log.
   */
  ROOM_EVENT_HOLD_MS: positiveIntVar(150),
  TYPING_THROTTLE_MS: positiveIntVar(2000),
  TYPING_TTL_MS: positiveIntVar(6000),
  GATEWAY_HTTP_PORT: portVar(8080),
  GATEWAY_WS_PORT: portVar(8081),
  /** /metrics, /healthz and /readyz, off the public ports. */
  GATEWAY_OPS_PORT: portVar(8090),
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
  /** Images with more pixels (width × height) are refused with 413 too_large. */
  ATTACHMENT_MAX_PIXELS: positiveIntVar(40_000_000),
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
  /** How often this gateway deletes the bytes of abandoned uploads and deleted messages' attachments. */
  ATTACHMENT_SWEEP_MS: positiveIntVar(10 * 60 * 1000),
  S3_BUCKET: z.string().optional(),
  S3_REGION: z.string().default('us-east-1'),
  S3_ENDPOINT: z.url().optional(),
  S3_ACCESS_KEY_ID: z.string().optional(),
  S3_SECRET_ACCESS_KEY: z.string().optional(),
  S3_PREFIX: z.string().default('attachments/'),
});
export type GatewayConfig = z.output<typeof GatewayConfigSchema>;

type RateLimitName = Extract<keyof GatewayConfig, `RATE_LIMIT_${string}_BURST`> extends `RATE_LIMIT_${infer N}_BURST` ? N : never;

/** The token bucket a pair of RATE_LIMIT_<NAME>_* settings describes. */
export function rateLimitOf(config: GatewayConfig, name: RateLimitName): { perSecond: number; burst: number } {
  return { perSecond: config[`RATE_LIMIT_${name}_PER_S`], burst: config[`RATE_LIMIT_${name}_BURST`] };
}

const GatewayConfigChecked = GatewayConfigSchema.refine((c) => c.ATTACHMENT_STORE !== 's3' || c.S3_BUCKET, {
  message: 'S3_BUCKET is required when ATTACHMENT_STORE=s3',
  path: ['S3_BUCKET'],
});

export const loadGatewayConfig = (env: NodeJS.ProcessEnv = process.env): GatewayConfig => parseEnv(GatewayConfigChecked, env);
