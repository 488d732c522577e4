import { createPublicKey } from 'node:crypto';
import type { Algorithm } from 'jsonwebtoken';
import { z } from 'zod';
import { boolVar, ConfigError } from '../config/index.js';

/** Used only when asked for explicitly (`CHAT_DEV_MODE=1`, outside production), with a loud warning at start. */
export const DEV_JWT_SECRET = 'chat-dev-secret-do-not-use-in-production-0123456789';

/**
 * Secrets that were published in this repository (manifests, compose file, source): anyone can sign
 * tokens with them, `service` and `moderator` roles included, so a process configured with one refuses to start.
 */
export const KNOWN_PLACEHOLDER_SECRETS: readonly string[] = [
  DEV_JWT_SECRET,
  'change-me-to-a-random-secret-of-at-least-32-chars',
  'compose-development-secret-change-me-0123456789',
];

function isPlaceholder(secret: string): boolean {
  const lower = secret.toLowerCase();
  return KNOWN_PLACEHOLDER_SECRETS.includes(secret) || lower.includes('change-me') || lower.includes('changeme');
}

export const authEnvShape = {
  /** `pnpm start`, `pnpm token`, docker compose and the development overlay set it: the dev secret is never a silent default. */
  CHAT_DEV_MODE: boolVar(false),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  JWT_PUBLIC_KEY: z.string().optional(),
  JWT_ISSUER: z.string().optional(),
  JWT_AUDIENCE: z.string().optional(),
};

export interface AuthSettings {
  algorithms: Algorithm[];
  /** The HS256 secret or the PEM public key. */
  key: string;
  issuer?: string;
  audience?: string;
  usingDevSecret: boolean;
}

/** PEM keys often arrive through env files with literal `\n`; accept both forms. */
function normalisePem(pem: string): string {
  return pem.includes('\\n') ? pem.replace(/\\n/g, '\n') : pem;
}

export function resolveAuthSettings(env: {
  NODE_ENV: string;
  CHAT_DEV_MODE?: boolean | undefined;
  JWT_SECRET?: string | undefined;
  JWT_PUBLIC_KEY?: string | undefined;
  JWT_ISSUER?: string | undefined;
  JWT_AUDIENCE?: string | undefined;
}): AuthSettings {
  const claims = {
    ...(env.JWT_ISSUER ? { issuer: env.JWT_ISSUER } : {}),
    ...(env.JWT_AUDIENCE ? { audience: env.JWT_AUDIENCE } : {}),
  };
  if (env.JWT_SECRET && env.JWT_PUBLIC_KEY) {
    throw new ConfigError(['JWT_SECRET, JWT_PUBLIC_KEY: set one of them, not both (algorithm confusion)']);
  }
  if (env.CHAT_DEV_MODE && env.NODE_ENV === 'production') {
    throw new ConfigError(['CHAT_DEV_MODE: the development mode is refused when NODE_ENV=production']);
  }
  if (env.JWT_PUBLIC_KEY) {
    // A shared identity provider signs tokens for many applications: without iss and aud checks,
    // a token it issued for any of them would be accepted here.
    const missing = [env.JWT_ISSUER ? null : 'JWT_ISSUER', env.JWT_AUDIENCE ? null : 'JWT_AUDIENCE'].filter((v) => v !== null);
    if (missing.length > 0) throw new ConfigError(missing.map((name) => `${name}: required when JWT_PUBLIC_KEY is set`));
    const pem = normalisePem(env.JWT_PUBLIC_KEY);
    let type: string | undefined;
    try {
      type = createPublicKey(pem).asymmetricKeyType;
    } catch {
      throw new ConfigError(['JWT_PUBLIC_KEY: not a PEM public key']);
    }
    if (type === 'rsa') return { algorithms: ['RS256'], key: pem, ...claims, usingDevSecret: false };
    if (type === 'ec') return { algorithms: ['ES256'], key: pem, ...claims, usingDevSecret: false };
    throw new ConfigError([`JWT_PUBLIC_KEY: ${type ?? 'unknown'} keys are not supported; use RSA (RS256) or EC P-256 (ES256)`]);
  }
  if (env.JWT_SECRET) {
    if (isPlaceholder(env.JWT_SECRET)) {
      throw new ConfigError([
        'JWT_SECRET: a published placeholder, anyone can sign tokens with it; generate one (openssl rand -base64 48)',
      ]);
    }
    return { algorithms: ['HS256'], key: env.JWT_SECRET, ...claims, usingDevSecret: false };
  }
  if (!env.CHAT_DEV_MODE) {
    throw new ConfigError([
      'JWT_SECRET or JWT_PUBLIC_KEY: one is required (or CHAT_DEV_MODE=1 for the built-in development secret, as `pnpm start` sets)',
    ]);
  }
  return { algorithms: ['HS256'], key: DEV_JWT_SECRET, ...claims, usingDevSecret: true };
}
