import { ChatError } from '@chat/shared';
import { type Actor, bearerToken, type TokenVerifier } from '@chat/shared/auth';
import type { Logger } from '@chat/shared/logging';
import { type OpsState, opsRouter } from '@chat/shared/ops';
import express, { type RequestHandler } from 'express';
import type { BlobStore } from '../attachments/blob-store.js';
import type { UploadLimits } from '../attachments/receive-upload.js';
import { attachmentRoutes } from '../attachments/routes.js';
import type { Upstream } from '../upstream/services.js';
import { deviceRoutes } from './device-routes.js';
import { messageRoutes } from './message-routes.js';
import { notFoundRoute, problemHandler } from './problem.js';
import { roomRoutes } from './room-routes.js';
import { type WebOptions, webRoutes } from './web-routes.js';

export interface RestOptions {
  upstream: Upstream;
  verifier: TokenVerifier;
  ops: OpsState;
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
  app.use(opsRouter(options.ops));
  app.use(webRoutes(options.web));

  const v1 = express.Router();
  v1.use(authenticate(options.verifier, options.onActor));
  v1.use(express.json({ limit: options.maxBodyBytes, strict: true }));
  v1.use(roomRoutes(options.upstream));
  v1.use(messageRoutes(options.upstream));
  v1.use(deviceRoutes(options.upstream));
  v1.use(attachmentRoutes(options.upstream, options.attachments.blobs, options.attachments.limits));

  app.use('/v1', v1);
  app.use(notFoundRoute);
  app.use(problemHandler(options.logger));
  return app;
}
