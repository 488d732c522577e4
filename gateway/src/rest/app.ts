import { ChatError, CreateRoomBodySchema, parseOrThrow, QueryIntSchema, RoomIdSchema, SendMessageBodySchema } from '@chat/shared';
import { type Actor, bearerToken, type TokenVerifier } from '@chat/shared/auth';
import type { Logger } from '@chat/shared/logging';
import { type OpsState, opsRouter } from '@chat/shared/ops';
import express, { type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import type { Upstream } from '../upstream/services.js';
import { notFoundRoute, problemHandler } from './problem.js';

export interface RestOptions {
  upstream: Upstream;
  verifier: TokenVerifier;
  ops: OpsState;
  logger: Logger;
  maxBodyBytes: number;
}

const BooleanQuery = z.enum(['true', 'false']).transform((v) => v === 'true');
const ListRoomsQuery = z.object({
  archived: BooleanQuery.optional(),
  limit: QueryIntSchema.pipe(z.number().min(1).max(100)).optional(),
  cursor: z.string().max(200).optional(),
});
const HistoryQuery = z.object({
  before_seq: QueryIntSchema.optional(),
  after_seq: QueryIntSchema.optional(),
  limit: QueryIntSchema.pipe(z.number().min(1).max(100)).optional(),
});

/** Every /v1 route needs a valid bearer token; the verified caller is kept in res.locals. */
function authenticate(verifier: TokenVerifier): RequestHandler {
  return (req, res, next) => {
    const token = bearerToken(req.headers.authorization);
    if (!token) return next(new ChatError('unauthenticated', 'Authorization: Bearer <token> is required'));
    res.locals.actor = verifier.verify(token);
    next();
  };
}

const actorOf = (res: Response): Actor => res.locals.actor as Actor;
const roomIdOf = (req: Request): string => parseOrThrow(RoomIdSchema, req.params.room_id, 'room_id');

export function createRestApp(options: RestOptions): express.Express {
  const { upstream } = options;
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(opsRouter(options.ops));

  const v1 = express.Router();
  v1.use(authenticate(options.verifier));
  v1.use(express.json({ limit: options.maxBodyBytes, strict: true }));

  v1.post('/rooms', async (req, res) => {
    const body = parseOrThrow(CreateRoomBodySchema, req.body, 'room');
    const { room, created } = await upstream.createRoom(actorOf(res), body);
    res.status(created ? 201 : 200).json(room);
  });
  v1.get('/rooms', async (req, res) => {
    const query = parseOrThrow(ListRoomsQuery, req.query, 'query');
    res.json(await upstream.listRooms(actorOf(res), query));
  });
  v1.get('/rooms/:room_id', async (req, res) => {
    res.json(await upstream.getRoom(actorOf(res), roomIdOf(req)));
  });
  v1.get('/rooms/:room_id/messages', async (req, res) => {
    const roomId = roomIdOf(req);
    const query = parseOrThrow(HistoryQuery, req.query, 'query');
    res.json(await upstream.history(actorOf(res), roomId, query));
  });
  v1.post('/rooms/:room_id/messages', async (req, res) => {
    const roomId = roomIdOf(req);
    const body = parseOrThrow(SendMessageBodySchema, req.body, 'message');
    const { message, created } = await upstream.sendMessage(actorOf(res), roomId, body);
    res.status(created ? 201 : 200).json(message);
  });

  app.use('/v1', v1);
  app.use(notFoundRoute);
  app.use(problemHandler(options.logger));
  return app;
}
