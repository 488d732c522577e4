import { type Kysely, sql } from 'kysely';
import type { QueuedHostEvent } from '../domain/host-events.js';
import type { NotifyDatabase } from './schema.js';

export type { QueuedHostEvent };

type Db = Kysely<NotifyDatabase>;

/** A lane head taken for one delivery attempt. */
export interface ClaimedHostEvent {
  id: string;
  room_id: string;
  type: string;
  payload: string;
  /** This attempt's number, from 1. */
  attempts: number;
}

/** Queues events; one already queued (a JetStream redelivery) is left as it is. */
export async function enqueueHostEvents(db: Db, events: QueuedHostEvent[]): Promise<number> {
  if (events.length === 0) return 0;
  const result = await db
    .insertInto('notify.host_events')
    .values(events)
    .onConflict((oc) => oc.column('id').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0);
}

/**
 * Takes up to `limit` lane heads that are due and not leased by another worker, leases them for
 * `leaseMs` and counts the attempt. A lane's next event is no head while the one before it is
 * pending, so each lane is delivered one event at a time, in order, whatever the replicas.
 * With `seqGapWaitMs`, a room's persisted event is no head until the event with the seq before it
 * is queued (its id is known: the lookup is by primary key), or it has waited that long (the
 * predecessor is older than the retention, or predates the webhook).
 */
export async function claimDueHostEvents(db: Db, limit: number, leaseMs: number, seqGapWaitMs?: number): Promise<ClaimedHostEvent[]> {
  const gapGuard =
    seqGapWaitMs === undefined
      ? sql``
      : sql`and (h.lane <> 'log' or h.ordinal <= 1
              or h.created_at < now() - make_interval(secs => ${seqGapWaitMs / 1000}::double precision)
              or exists (select 1 from notify.host_events p where p.id = 'evt_' || h.room_id || '_' || (h.ordinal - 1)))`;
  const { rows } = await sql<ClaimedHostEvent>`
    with heads as (
      select distinct on (room_id, lane) id, room_id, lane, ordinal, created_at, next_attempt_at, lease_until
        from notify.host_events
       where state = 'pending'
       order by room_id, lane, ordinal
    ),
    due as (
      select h.id from heads h
       where h.next_attempt_at <= now() and (h.lease_until is null or h.lease_until < now()) ${gapGuard}
       order by h.next_attempt_at
       limit ${limit}
    )
    update notify.host_events e
       set lease_until = now() + make_interval(secs => ${leaseMs / 1000}::double precision), attempts = e.attempts + 1
      from due
     where e.id = due.id and e.state = 'pending' and (e.lease_until is null or e.lease_until < now())
    returning e.id, e.room_id, e.type, e.payload, e.attempts`.execute(db);
  return rows;
}

export async function markHostEventDelivered(db: Db, id: string): Promise<void> {
  await db
    .updateTable('notify.host_events')
    .set({ state: 'delivered', lease_until: null, last_error: null, finished_at: sql<Date>`now()` })
    .where('id', '=', id)
    .execute();
}

/** A failed attempt: retried after `retryInMs`, or a dead letter when `dead`. */
export async function markHostEventFailed(
  db: Db,
  id: string,
  error: string,
  outcome: { dead: true } | { retryInMs: number },
): Promise<void> {
  await db
    .updateTable('notify.host_events')
    .set(
      'dead' in outcome
        ? { state: 'dead', lease_until: null, last_error: error, finished_at: sql<Date>`now()` }
        : {
            lease_until: null,
            last_error: error,
            next_attempt_at: sql<Date>`now() + make_interval(secs => ${outcome.retryInMs / 1000}::double precision)`,
          },
    )
    .where('id', '=', id)
    .where('state', '=', 'pending')
    .execute();
}

/** Dead letters, oldest first. */
export function deadHostEvents(db: Db, limit: number) {
  return db
    .selectFrom('notify.host_events')
    .select(['id', 'room_id', 'type', 'attempts', 'last_error', 'created_at', 'finished_at'])
    .where('state', '=', 'dead')
    .orderBy('finished_at')
    .limit(limit)
    .execute();
}

/** Puts dead letters back in their lanes with fresh attempts; returns the ids revived. */
export async function reviveHostEvents(db: Db, ids: string[] | 'all'): Promise<string[]> {
  let query = db
    .updateTable('notify.host_events')
    .set({ state: 'pending', attempts: 0, next_attempt_at: sql<Date>`now()`, lease_until: null, finished_at: null })
    .where('state', '=', 'dead');
  if (ids !== 'all') query = query.where('id', 'in', ids.length ? ids : ['']);
  const rows = await query.returning('id').execute();
  return rows.map((r) => r.id);
}

/** Forgets delivered events older than `hours` (dead letters stay until replayed). */
export async function pruneDeliveredHostEvents(db: Db, hours: number): Promise<number> {
  const result = await db
    .deleteFrom('notify.host_events')
    .where('state', '=', 'delivered')
    .where('finished_at', '<', sql<Date>`now() - make_interval(hours => ${hours}::int)`)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Pending and dead counts, for the metrics. */
export async function hostEventBacklog(db: Db): Promise<{ pending: number; dead: number }> {
  const { rows } = await sql<{ pending: string; dead: string }>`
    select count(*) filter (where state = 'pending') as pending, count(*) filter (where state = 'dead') as dead
      from notify.host_events where state <> 'delivered'`.execute(db);
  return { pending: Number(rows[0]?.pending ?? 0), dead: Number(rows[0]?.dead ?? 0) };
}
