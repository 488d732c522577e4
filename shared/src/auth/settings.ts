import { createPublicKey } from 'node:crypto';
import type { Algorithm } from 'jsonwebtoken';
import { z } from 'zod';
import { ConfigError } from '../config/index.js';

/** Used only when no key is configured outside production, with a loud warning at start. */
export const DEV_JWT_SECRET = 'chat-dev-secret-do-not-use-in-production-0123456789';

export const authEnvShape = {
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
  if (env.JWT_PUBLIC_KEY) {
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
  if (env.JWT_SECRET) return { algorithms: ['HS256'], key: env.JWT_SECRET, ...claims, usingDevSecret: false };
  if (env.NODE_ENV === 'production') {
    throw new ConfigError(['JWT_SECRET or JWT_PUBLIC_KEY: one is required when NODE_ENV=production']);
  }
  return { algorithms: ['HS256'], key: DEV_JWT_SECRET, ...claims, usingDevSecret: true };
}
