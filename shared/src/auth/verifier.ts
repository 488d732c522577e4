import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import { DisplayNameSchema, UserIdSchema } from '../contracts/common.js';
import { ChatError } from '../errors/index.js';
import type { AuthSettings } from './settings.js';

export const ClaimsSchema = z.object({
  sub: UserIdSchema,
  exp: z.number({ error: 'exp is required' }),
  name: DisplayNameSchema.optional(),
  roles: z.array(z.string().max(64)).max(32).optional(),
});

/** Who is calling, as every service sees it (it travels in RPC requests as `actor`). */
export const ActorSchema = z.object({
  user_id: UserIdSchema,
  name: DisplayNameSchema.nullable(),
  roles: z.array(z.string()),
});
export type Actor = z.infer<typeof ActorSchema>;

/**
 * Most users have no roles: one shared list instead of an array per connected socket. Frozen, so
 * code that ever tried to add to an actor's roles would throw instead of granting them to everyone.
 */
const NO_ROLES: string[] = [];
Object.freeze(NO_ROLES);

export interface TokenVerifier {
  verify(token: string): Actor;
}

export function createTokenVerifier(settings: AuthSettings): TokenVerifier {
  const options: jwt.VerifyOptions = {
    algorithms: settings.algorithms,
    ...(settings.issuer ? { issuer: settings.issuer } : {}),
    ...(settings.audience ? { audience: settings.audience } : {}),
  };
  // jsonwebtoken turns a string key into a KeyObject on every call (trying it as a public key
  // first, which throws for a secret): a tenth of a gateway's CPU in a connect storm. Once is enough.
  const key: KeyObject = settings.algorithms.some((a) => a.startsWith('HS'))
    ? createSecretKey(Buffer.from(settings.key))
    : createPublicKey(settings.key);
  return {
    verify(token) {
      let payload: string | jwt.JwtPayload;
      try {
        payload = jwt.verify(token, key, options);
      } catch (error) {
        throw new ChatError('unauthenticated', `invalid token: ${error instanceof Error ? error.message : 'rejected'}`);
      }
      const claims = ClaimsSchema.safeParse(payload);
      if (!claims.success) {
        throw new ChatError(
          'unauthenticated',
          `invalid token claims: ${claims.error.issues[0]?.path.join('.')} ${claims.error.issues[0]?.message}`,
        );
      }
      return { user_id: claims.data.sub, name: claims.data.name ?? null, roles: claims.data.roles ?? NO_ROLES };
    },
  };
}

export const isService = (actor: Actor) => actor.roles.includes('service');

/** Reads the token from `Authorization: Bearer …`; anything else is treated as absent. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
