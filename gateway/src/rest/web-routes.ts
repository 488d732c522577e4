import { existsSync } from 'node:fs';
import { ChatError, DisplayNameSchema, parseOrThrow, UserIdSchema } from '@chat/shared';
import express from 'express';
import jwt from 'jsonwebtoken';
import { z } from 'zod';

export interface WebOptions {
  /** Built chatbox assets (gateway/dist/public). */
  publicDir: string;
  /** Where browsers open the socket; by default the page's host on GATEWAY_WS_PORT. */
  publicWsUrl: string | undefined;
  wsPort: number;
  attachmentMaxBytes: number;
  /** Set only when the server runs on the development secret: lets the chatbox mint tokens. */
  devSigner: { secret: string; issuer?: string | undefined; audience?: string | undefined } | undefined;
}

const DevTokenBody = z.object({ user_id: UserIdSchema, name: DisplayNameSchema.optional() });

/**
 * The web chatbox: static assets at `/`, its runtime configuration, and (development only) a
 * token helper. User content is rendered as text by the app, and the CSP forbids inline script.
 */
export function webRoutes(options: WebOptions): express.Router {
  const router = express.Router();
  router.use((_req, res, next) => {
    res.setHeader(
      'Content-Security-Policy',
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    );
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    next();
  });
  router.get('/config.json', (req, res) => {
    const host = (req.headers.host ?? 'localhost').replace(/:\d+$/, '');
    res.json({
      ws_url: options.publicWsUrl ?? `${req.protocol === 'https' ? 'wss' : 'ws'}://${host}:${options.wsPort}`,
      http_url: '',
      attachment_max_bytes: options.attachmentMaxBytes,
      dev_tokens: options.devSigner !== undefined,
    });
  });
  router.post('/dev/token', express.json({ limit: '4kb' }), (req, res) => {
    const signer = options.devSigner;
    if (!signer) throw ChatError.notFound('route');
    const body = parseOrThrow(DevTokenBody, req.body, 'token request');
    const token = jwt.sign({ sub: body.user_id, ...(body.name ? { name: body.name } : {}) }, signer.secret, {
      algorithm: 'HS256',
      expiresIn: '12h',
      ...(signer.issuer ? { issuer: signer.issuer } : {}),
      ...(signer.audience ? { audience: signer.audience } : {}),
    });
    res.json({ token });
  });
  if (existsSync(options.publicDir)) router.use(express.static(options.publicDir, { index: 'index.html', maxAge: '1h' }));
  return router;
}
