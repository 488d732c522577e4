import { PATH_PARAMS, pathParamNames, restRouteList } from '@chat/shared';
import type { TokenVerifier } from '@chat/shared/auth';
import { createLogger } from '@chat/shared/logging';
import type { OpsState } from '@chat/shared/ops';
import type express from 'express';
import { describe, expect, it } from 'vitest';
import type { BlobStore } from '../attachments/blob-store.js';
import type { ServicesClient } from '../clients/services-client.js';
import type { RateLimits } from '../limits/rate-limits.js';
import { createRestApp } from './app.js';
import { expressPath } from './mount.js';

/** What the router keeps of a mounted route or router (express 5, router 2). */
interface LayerLike {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: LayerLike[] };
  rawPath?: unknown;
}

/** Every `METHOD /path` express would answer, walking nested routers with their mount paths. */
function mountedRoutes(stack: LayerLike[], prefix = ''): string[] {
  const out: string[] = [];
  for (const layer of stack) {
    if (layer.route) {
      for (const [method, on] of Object.entries(layer.route.methods))
        if (on && method !== '_all') out.push(`${method.toUpperCase()} ${prefix}${layer.route.path}`);
    } else if (layer.handle?.stack) {
      const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
      out.push(...mountedRoutes(layer.handle.stack, `${prefix}${mount}`));
    }
  }
  return out;
}

// Nothing is called while routes are only listed: the collaborators are empty stand-ins.
const app = createRestApp({
  services: {} as ServicesClient,
  verifier: {} as TokenVerifier,
  ops: { registry: {}, checks: [], shuttingDown: false } as unknown as OpsState,
  rateLimits: {} as RateLimits,
  allowedOrigins: [],
  logger: createLogger({ service: 'test', version: '0', level: 'silent', pretty: false }),
  maxBodyBytes: 1024,
  attachments: { blobs: {} as BlobStore, limits: { maxBytes: 1, maxPixels: 1, allowedTypes: new Set(), tempDir: '/tmp' } },
  web: { publicDir: '/nonexistent', publicWsUrl: undefined, wsPort: 0, attachmentMaxBytes: 1, devSigner: undefined },
});

describe('REST routes come from the table in shared/src/contracts/routes.ts', () => {
  const stack = (app as express.Express & { router: { stack: LayerLike[] } }).router.stack;
  const mounted = mountedRoutes(stack).filter((line) => line.split(' ')[1]?.startsWith('/v1/'));
  const table = restRouteList.map(([, route]) => `${route.method.toUpperCase()} /v1${expressPath(route.path)}`);

  it('express mounts every route of the table, and no /v1 route that is not in it', () => {
    expect(table.filter((line) => !mounted.includes(line))).toEqual([]);
    expect(mounted.filter((line) => !table.includes(line))).toEqual([]);
    expect(mounted).toHaveLength(table.length);
    expect(new Set(table).size).toBe(table.length);
  });

  it('every path parameter has a schema, and member-only routes answer 404 to others', () => {
    for (const [id, route] of restRouteList) {
      for (const name of pathParamNames(route.path)) expect(PATH_PARAMS, `${id}: {${name}}`).toHaveProperty(name);
      if (route.caller === 'member') expect(route.errors, id).toContain('not_found');
    }
  });
});
