import { ChatError } from '@chat/shared';
import { type Actor, bearerToken, type TokenVerifier } from '@chat/shared/auth';
import type { Logger } from '@chat/shared/logging';
import { type OpsState, opsRouter } from '@chat/shared/ops';
import express, { type RequestHandler } from 'express';
import type { BlobStore } from '../attachments/blob-store.js';
import type { UploadLimits } from '../attachments/receive-upload.js';
import { attachmentHandlers } from '../attachments/routes.js';
import type { ServicesClient } from '../clients/services-client.js';
import type { RateLimits } from '../limits/rate-limits.js';
import { deviceHandlers } from './device-routes.js';
import { messageHandlers } from './message-routes.js';
import { mountRestRoutes } from './mount.js';
import { originPolicy } from './origin-policy.js';
import { notFoundRoute, problemHandler } from './problem.js';
import { roomHandlers } from './room-routes.js';
import { type WebOptions, webRoutes } from './web-routes.js';

export interface RestOptions {
  services: ServicesClient;
  verifier: TokenVerifier;
  ops: OpsState;
  /** Per-user buckets for the costly REST actions (uploads, room creation, search, device registration). */
  rateLimits: RateLimits;
  /** `ALLOWED_ORIGINS`: empty allows any origin. */
  allowedOrigins: readonly string[];
  logger: Logger;
  maxBodyBytes: number;
  attachments: { blobs: BlobStore; limits: UploadLimits };
  web: WebOptions;
  /** Called with each authenticated caller, so display names are remembered. */
  onActor?: (actor: Actor) => void;
}

/** Every /v1 route needs a valid bearer token; the verified caller is kept in res.locals. */
function authenticate(verifier: TokenVerifier, onActor?: (actor: Actor) => void): RequestHandler {
  return (req, res, next) => {
    const token = bearerToken(req.headers.authorization);
    if (!token) return next(new ChatError('unauthenticated', 'Authorization: Bearer <token> is required'));
    const actor = verifier.verify(token);
    res.locals.actor = actor;
    onActor?.(actor);
    next();
  };
}

export function createRestApp(options: RestOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(originPolicy(options.allowedOrigins));
  // /metrics is served on the ops port only (DESIGN 10.1).
  app.use(opsRouter(options.ops, { metrics: false }));
  app.use(webRoutes(options.web));

  const v1 = express.Router();
  v1.use(authenticate(options.verifier, options.onActor));
  v1.use(express.json({ limit: options.maxBodyBytes, strict: true }));
  // Every route of the REST table (shared/src/contracts/routes.ts); costly actions spend a rate-limit token first (DESIGN 10.1).
  const { services, attachments } = options;
  mountRestRoutes(
    v1,
    {
      ...roomHandlers(services),
      ...messageHandlers(services),
      ...deviceHandlers(services),
      ...attachmentHandlers(services, attachments.blobs, attachments.limits),
    },
    options.rateLimits,
  );

  app.use('/v1', v1);
  app.use(notFoundRoute);
  app.use(problemHandler(options.logger));
  return app;
}
