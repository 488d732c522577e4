import { z } from 'zod';

/** Thrown at start-up; its message names every bad variable so the operator can fix them all at once. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Unset and empty variables are the same thing: an empty `JWT_ISSUER=` means "not configured". */
function withoutEmpty(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined && value.trim() !== '') out[key] = value;
  return out;
}

export function parseEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.output<S> {
  const result = schema.safeParse(withoutEmpty(env));
  if (result.success) return result.data;
  throw new ConfigError(result.error.issues.map((issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`));
}

export const portVar = (fallback: number) => z.coerce.number().int().min(0).max(65_535).default(fallback);
export const positiveIntVar = (fallback: number) => z.coerce.number().int().positive().default(fallback);
export const boolVar = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .transform((v) => v === 'true' || v === '1' || v === 'yes')
    .default(fallback);

const urlWithScheme = (schemes: string[]) =>
  z.string().refine(
    (value) => {
      try {
        return schemes.includes(new URL(value).protocol.replace(/:$/, ''));
      } catch {
        return false;
      }
    },
    `must be a URL with scheme ${schemes.join(' or ')}`,
  );

/** Every NATS subject, stream, consumer, Redis key and queue is prefixed with it. */
export const NamespaceSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,32}$/, 'letters, digits, _ or -, at most 32 (it becomes a NATS subject token)');

/** Variables every process reads. */
export const commonEnvShape = {
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  CHAT_NAMESPACE: NamespaceSchema.default('chat'),
  NATS_URL: z
    .string()
    .default('nats://127.0.0.1:4222')
    .transform((v) => v.split(',').map((s) => s.trim()))
    .pipe(z.array(urlWithScheme(['nats', 'tls', 'ws', 'wss'])).min(1)),
  /** Replicas of the room event stream (and its consumers): 3 on a 3-node JetStream cluster. */
  NATS_STREAM_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
  SHUTDOWN_TIMEOUT_MS: positiveIntVar(25_000),
  /** On SIGTERM, readiness fails first; this long later the process stops taking work (load balancers catch up). */
  SHUTDOWN_READINESS_DELAY_MS: z.coerce.number().int().nonnegative().default(0),
};

export const databaseEnvShape = {
  DATABASE_URL: urlWithScheme(['postgres', 'postgresql']).default('postgres://postgres@127.0.0.1:5432/postgres'),
  DATABASE_POOL_MAX: positiveIntVar(10),
};

export const redisEnvShape = {
  REDIS_URL: urlWithScheme(['redis', 'rediss']).default('redis://127.0.0.1:6379'),
};

export type CommonEnv = z.output<z.ZodObject<typeof commonEnvShape>>;
