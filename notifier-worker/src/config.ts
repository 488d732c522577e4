import { HOST_EVENT_TYPES, HostEventTypeSchema } from '@chat/shared';
import { commonEnvShape, databaseEnvShape, parseEnv, portVar, positiveIntVar, redisEnvShape } from '@chat/shared/config';
import { z } from 'zod';

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const pem = z.string().transform((v) => (v.includes('\\n') ? v.replace(/\\n/g, '\n') : v));

export const NotifierConfigSchema = z
  .object({
    ...commonEnvShape,
    ...databaseEnvShape,
    ...redisEnvShape,
    NOTIFIER_HTTP_PORT: portVar(8093),
    RPC_TIMEOUT_MS: positiveIntVar(5000),
    /** Pushes for one user and room within this window become one; 0 sends at once. */
    NOTIFY_COALESCE_MS: z.coerce.number().int().nonnegative().default(2000),
    NOTIFY_MAX_ATTEMPTS: positiveIntVar(6),
    NOTIFY_BACKOFF_MS: positiveIntVar(1000),
    NOTIFY_CONCURRENCY: positiveIntVar(20),
    /**
     * A job whose worker stopped renewing its lock (died) is taken over after at most twice this
     * (stalled jobs are looked for at this interval too).
     */
    NOTIFY_JOB_LOCK_MS: positiveIntVar(5000),
    /** A message event the worker took but did not finish is handed out again after this long. */
    NOTIFY_EVENT_ACK_WAIT_MS: positiveIntVar(10_000),
    /** How often the push ledger is swept for due work whose job was lost. */
    NOTIFY_SWEEP_MS: positiveIntVar(5000),
    /** A provider request that has not answered after this long counts as a transient failure. */
    NOTIFY_PROVIDER_TIMEOUT_MS: positiveIntVar(10_000),
    /** Delivered and dropped pushes are remembered this long (what stops a second delivery). */
    NOTIFY_LEDGER_RETENTION_HOURS: positiveIntVar(72),
    /** A message that asks for acknowledgement is pushed again to those who have not, this often (DESIGN 10.2)… */
    URGENT_RENOTIFY_MS: positiveIntVar(300_000),
    /** …at most this many times (0: never). */
    URGENT_RENOTIFY_MAX: z.coerce.number().int().nonnegative().default(3),
    /** Registering a device beyond this many for one user removes that user's oldest. */
    DEVICES_MAX_PER_USER: positiveIntVar(20),
    /** Must match the gateways' presence TTL. */
    PRESENCE_TTL_MS: positiveIntVar(30_000),
    NOTIFY_WEBHOOK_URL: httpUrl.optional(),
    NOTIFY_WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
    /** The event webhook for the host application (DESIGN 10.4): on when URL and secret are set. */
    EVENTS_WEBHOOK_URL: httpUrl.optional(),
    EVENTS_WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
    /** Comma-separated event types to send (default: all of them). */
    EVENTS_WEBHOOK_TYPES: z
      .string()
      .transform((v) =>
        v
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean),
      )
      .pipe(z.array(HostEventTypeSchema, { error: `event types are: ${HOST_EVENT_TYPES.join(', ')}` }).min(1))
      .optional(),
    /** Attempts per event before it becomes a dead letter. */
    EVENTS_WEBHOOK_MAX_ATTEMPTS: positiveIntVar(10),
    /** Wait before the first retry; doubled per attempt (with jitter) up to EVENTS_WEBHOOK_MAX_BACKOFF_MS. */
    EVENTS_WEBHOOK_BACKOFF_MS: positiveIntVar(1000),
    EVENTS_WEBHOOK_MAX_BACKOFF_MS: positiveIntVar(300_000),
    /** An answer slower than this is a failed attempt. */
    EVENTS_WEBHOOK_TIMEOUT_MS: positiveIntVar(10_000),
    /** Rooms delivered in parallel (each room stays one event at a time). */
    EVENTS_WEBHOOK_CONCURRENCY: positiveIntVar(16),
    /** Delivered events are remembered this long (dead letters until replayed). */
    EVENTS_WEBHOOK_RETENTION_HOURS: positiveIntVar(72),
    APNS_URL: httpUrl.default('https://api.push.apple.com'),
    APNS_KEY_ID: z.string().optional(),
    APNS_TEAM_ID: z.string().optional(),
    /** The .p8 signing key (PEM, ES256). */
    APNS_PRIVATE_KEY: pem.optional(),
    APNS_TOPIC: z.string().optional(),
    FCM_URL: httpUrl.default('https://fcm.googleapis.com'),
    FCM_TOKEN_URL: httpUrl.default('https://oauth2.googleapis.com/token'),
    FCM_PROJECT_ID: z.string().optional(),
    FCM_CLIENT_EMAIL: z.string().optional(),
    FCM_PRIVATE_KEY: pem.optional(),
  })
  .superRefine((c, ctx) => {
    const need = (when: boolean, names: Array<keyof typeof c>, what: string) => {
      if (!when) return;
      for (const name of names) if (!c[name]) ctx.addIssue({ code: 'custom', path: [name], message: `required for ${what}` });
    };
    need(c.NOTIFY_WEBHOOK_URL !== undefined, ['NOTIFY_WEBHOOK_SECRET'], 'webhook pushes (NOTIFY_WEBHOOK_URL is set)');
    need(c.EVENTS_WEBHOOK_URL !== undefined, ['EVENTS_WEBHOOK_SECRET'], 'the event webhook (EVENTS_WEBHOOK_URL is set)');
    need(c.EVENTS_WEBHOOK_SECRET !== undefined, ['EVENTS_WEBHOOK_URL'], 'the event webhook (EVENTS_WEBHOOK_SECRET is set)');
    need(
      c.APNS_KEY_ID !== undefined || c.APNS_PRIVATE_KEY !== undefined,
      ['APNS_KEY_ID', 'APNS_TEAM_ID', 'APNS_PRIVATE_KEY', 'APNS_TOPIC'],
      'APNs',
    );
    need(
      c.FCM_PROJECT_ID !== undefined || c.FCM_PRIVATE_KEY !== undefined,
      ['FCM_PROJECT_ID', 'FCM_CLIENT_EMAIL', 'FCM_PRIVATE_KEY'],
      'FCM',
    );
  });
export type NotifierConfig = z.output<typeof NotifierConfigSchema>;

export const loadNotifierConfig = (env: NodeJS.ProcessEnv = process.env): NotifierConfig => parseEnv(NotifierConfigSchema, env);
