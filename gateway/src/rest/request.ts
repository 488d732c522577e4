import type { Actor } from '@chat/shared/auth';
import type { Response } from 'express';

export const actorOf = (res: Response): Actor => res.locals.actor as Actor;
