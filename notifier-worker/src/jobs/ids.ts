import { createHash } from 'node:crypto';

export const hashOf = (...parts: string[]): string => createHash('sha1').update(parts.join('\u0000')).digest('hex').slice(0, 24);

/** The coalescing job of a user and room for what is due from this seq on (`suffix` for a re-queue). */
export const coalesceJobId = (userId: string, roomId: string, firstSeq: number, suffix = '') =>
  `c-${hashOf(userId, roomId)}-${firstSeq}${suffix ? `-${suffix}` : ''}`;
