import { ChatError } from '@chat/shared';
import type { RequestHandler } from 'express';

const ALLOWED_METHODS = 'GET, POST, PUT, PATCH, DELETE';
const ALLOWED_HEADERS = 'Authorization, Content-Type';

/**
 * REST origin policy and CORS (DESIGN 10.1). A request without `Origin` (a server, a CLI) passes.
 * With `ALLOWED_ORIGINS` set, an `Origin` outside it is refused with 403 `forbidden` and gets no
 * CORS grant; the gateway's own origin (the web chatbox) always passes. Unset, any origin is
 * granted, as for sockets. Bearer tokens, never cookies: no credentials are granted.
 */
export function originPolicy(allowedOrigins: readonly string[]): RequestHandler {
  const allowed = new Set(allowedOrigins);
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origin === undefined) return next();
    if (allowed.size > 0 && !allowed.has(origin) && !isSameOrigin(origin, req.headers.host)) {
      return next(new ChatError('forbidden', `origin ${origin} is not allowed`));
    }
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.append('Vary', 'Origin');
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
      res.setHeader('Access-Control-Allow-Methods', ALLOWED_METHODS);
      res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS);
      res.setHeader('Access-Control-Max-Age', '600');
      res.status(204).end();
      return;
    }
    res.setHeader('Access-Control-Expose-Headers', 'Retry-After, Location');
    next();
  };
}

function isSameOrigin(origin: string, host: string | undefined): boolean {
  if (!host) return false;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}
