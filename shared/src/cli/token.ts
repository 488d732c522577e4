#!/usr/bin/env node
/**
 * Development helper: prints a JWT for a user, signed with the configured secret (or the dev
 * secret), so sockets and REST calls can be tried by hand.
 *   pnpm token alice --name "Alice" --roles service,moderator --ttl 24h
 */
import { parseArgs } from 'node:util';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import { authEnvShape, resolveAuthSettings } from '../auth/settings.js';
import { boolVar, ConfigError, parseEnv } from '../config/index.js';

const usage = 'usage: pnpm token <user_id> [--name NAME] [--roles r1,r2] [--ttl 24h]';

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { name: { type: 'string' }, roles: { type: 'string' }, ttl: { type: 'string', default: '24h' } },
  });
  const userId = positionals[0];
  if (!userId || userId.length > 128) throw new Error(usage);
  // A development tool: it asks for the development secret itself (CHAT_DEV_MODE=1) when no key is configured.
  const env = parseEnv(
    z.object({
      NODE_ENV: z.string().default('development'),
      JWT_PRIVATE_KEY: z.string().optional(),
      ...authEnvShape,
      CHAT_DEV_MODE: boolVar(true),
    }),
  );
  const settings = resolveAuthSettings(env);
  const signingKey = settings.algorithms[0] === 'HS256' ? settings.key : env.JWT_PRIVATE_KEY?.replace(/\\n/g, '\n');
  if (!signingKey) throw new Error('JWT_PUBLIC_KEY is configured: set JWT_PRIVATE_KEY to mint tokens');
  if (settings.usingDevSecret)
    process.stderr.write('warning: signing with the development secret (JWT_SECRET is not set, CHAT_DEV_MODE=1)\n');
  const payload: Record<string, unknown> = { sub: userId };
  if (values.name) payload.name = values.name;
  if (values.roles)
    payload.roles = values.roles
      .split(',')
      .map((r) => r.trim())
      .filter(Boolean);
  const token = jwt.sign(payload, signingKey, {
    algorithm: settings.algorithms[0],
    expiresIn: values.ttl as jwt.SignOptions['expiresIn'],
    ...(settings.issuer ? { issuer: settings.issuer } : {}),
    ...(settings.audience ? { audience: settings.audience } : {}),
  });
  process.stdout.write(`${token}\n`);
}

try {
  main();
} catch (error) {
  process.stderr.write(`${error instanceof ConfigError || error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
}
