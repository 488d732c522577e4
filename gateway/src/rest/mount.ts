import {
  PATH_PARAMS,
  parseOrThrow,
  pathParamNames,
  type RestBody,
  type RestParams,
  type RestQuery,
  type RestReply,
  type RestRouteId,
  type RestRouteSpec,
  restRouteList,
} from '@chat/shared';
import type { Actor } from '@chat/shared/auth';
import type { Request, RequestHandler, Response, Router } from 'express';
import type { RateLimits } from '../limits/rate-limits.js';
import { rateLimited } from './rate-limit.js';
import { actorOf } from './request.js';

/** What a handler gets: the caller, and the path, query and body already checked against the table. */
export interface RestContext<K extends RestRouteId> {
  actor: Actor;
  params: RestParams<K>;
  query: RestQuery<K>;
  body: RestBody<K>;
  /** For the routes that read or write bytes themselves (uploads, downloads). */
  req: Request;
  res: Response;
}

export type RestHandler<K extends RestRouteId> = (context: RestContext<K>) => Promise<RestReply<K>>;
/** One handler per route of the table: a route without one does not compile. */
export type RestHandlers = { [K in RestRouteId]: RestHandler<K> };

/** `/v1/rooms/{room_id}` → `/rooms/:room_id` (the router is mounted at /v1). */
export const expressPath = (path: string): string => path.replace(/^\/v1/, '').replace(/\{(\w+)\}/g, ':$1');

/**
 * Mounts every route of the REST table on the /v1 router: the rate limit of a costly action first,
 * then path parameters, query and body parsed in that order (a 400 `invalid` names the first that
 * fails), then the handler, whose reply is sent as JSON, as no content, or left to the handler
 * when it streamed the bytes itself.
 */
export function mountRestRoutes(router: Router, handlers: RestHandlers, rateLimits: RateLimits): void {
  for (const [id, route] of restRouteList) {
    const handler = handlers[id] as (context: RestContext<RestRouteId>) => Promise<RestReply<RestRouteId>>;
    const run: RequestHandler = async (req, res) => {
      const reply: { status: number; body?: unknown; streamed?: true } = await handler(parseRequest(route, req, res));
      if ('body' in reply) res.status(reply.status).json(reply.body);
      else if (!reply.streamed) res.status(reply.status).end();
    };
    const chain = route.rateLimit ? [rateLimited(rateLimits, route.rateLimit), run] : [run];
    router[route.method](expressPath(route.path), ...chain);
  }
}

function parseRequest(route: RestRouteSpec, req: Request, res: Response): RestContext<RestRouteId> {
  const params: Record<string, unknown> = {};
  for (const name of pathParamNames(route.path)) params[name] = parseOrThrow(PATH_PARAMS[name], req.params[name], name);
  const query = route.query ? parseOrThrow(route.query, req.query, 'query') : undefined;
  const body = route.body && route.body !== 'multipart' ? parseOrThrow(route.body.schema, req.body, route.body.what) : undefined;
  // The table's schemas produced these values; their static types are the route's, by construction.
  return { actor: actorOf(res), params, query, body, req, res } as RestContext<RestRouteId>;
}
