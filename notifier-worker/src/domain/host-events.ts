import { type HostEvent, type HostEventType, hostEventTypes, persistedHostEventId } from '@chat/shared';

/** One event to queue for the webhook (db/host-events-repository.ts stores it). */
export interface QueuedHostEvent {
  id: string;
  room_id: string;
  lane: 'log' | 'activity';
  ordinal: number;
  type: string;
  /** The exact body POSTed on every attempt. */
  payload: string;
}

const isHostEventType = (type: unknown): type is HostEventType => typeof type === 'string' && Object.hasOwn(hostEventTypes, type);

/**
 * A persisted room event (as the room event stream carries it) as the webhook sends it: the
 * socket event's fields other than type, room_id and seq become `data`. Null for a type the
 * host is not sent (or filtered out) and for what is not a room event.
 */
export function hostEventFromLog(raw: unknown, occurredAt: Date, wanted: ReadonlySet<HostEventType>): QueuedHostEvent | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const { type, room_id, seq, ...data } = raw as Record<string, unknown>;
  if (!isHostEventType(type) || !hostEventTypes[type].persisted || !wanted.has(type)) return null;
  if (typeof room_id !== 'string' || typeof seq !== 'number') return null;
  const event: HostEvent = { id: persistedHostEventId(room_id, seq), type, room_id, seq, occurred_at: occurredAt.toISOString(), data };
  return { id: event.id, room_id, lane: 'log', ordinal: seq, type, payload: JSON.stringify(event) };
}

/** A room activity record (already in the webhook's shape), ordered by its place in the activity stream. */
export function hostEventFromActivity(raw: unknown, streamSeq: number, wanted: ReadonlySet<HostEventType>): QueuedHostEvent | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const { id, type, room_id, occurred_at, data } = raw as Record<string, unknown>;
  if (!isHostEventType(type) || hostEventTypes[type].persisted || !wanted.has(type)) return null;
  if (typeof id !== 'string' || typeof room_id !== 'string' || typeof occurred_at !== 'string' || typeof data !== 'object' || data === null)
    return null;
  const event: HostEvent = { id, type, room_id, occurred_at, data: data as Record<string, unknown> };
  return { id, room_id, lane: 'activity', ordinal: streamSeq, type, payload: JSON.stringify(event) };
}

/** Exponential back-off with full jitter in its upper half: base·2^(attempt-1), capped. */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
