import { parseOrThrow, RoomIdSchema } from '@chat/shared';
import type { Actor } from '@chat/shared/auth';
import type { Request, Response } from 'express';

export const actorOf = (res: Response): Actor => res.locals.actor as Actor;
export const roomIdOf = (req: Request): string => parseOrThrow(RoomIdSchema, req.params.room_id, 'room_id');
