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
    /** How long a job may run without renewing its lock before another worker takes it over. */
    NOTIFY_JOB_LOCK_MS: positiveIntVar(30_000),
    /** A message event the worker took but did not finish is handed out again after this long. */
    NOTIFY_EVENT_ACK_WAIT_MS: positiveIntVar(30_000),
    /** Must match the gateways' presence TTL. */
    PRESENCE_TTL_MS: positiveIntVar(30_000),
    NOTIFY_WEBHOOK_URL: httpUrl.optional(),
    NOTIFY_WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
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
