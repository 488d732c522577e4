import type pg from 'pg';

type Queryable = Pick<pg.Pool, 'query'>;

/** A committed room event as it goes to JetStream. */
export interface CommittedEvent {
  /** The event's id in the log (and its outbox row). */
  id: string;
  room_id: string;
  seq: number;
  event: string;
  trace_context: string | null;
  /** The seq of the message the event's message replies to (REPLY_TO_SEQ_HEADER), or null. */
  reply_to_seq: number | null;
}

export interface DueEvent extends CommittedEvent {
  /** Commit to now, for the relay-lag metric. */
  age_ms: number;
}

/** Wakes the relay for rows it should publish at once (writes that do not publish themselves). */
export const OUTBOX_CHANNEL = 'messages_outbox';

/** Drops rows whose events JetStream has acknowledged. */
/** Advisory lock key of the relay: one leader per database publishes, so each room stays in order. */
const RELAY_LOCK_KEY = 0x6d7367_6f7574; // "msg" "out"

/** Takes the relay's advisory lock on this session if free; true when this session is the leader. */
export async function tryTakeRelayLock(db: Queryable): Promise<boolean> {
  const { rows } = await db.query<{ locked: boolean }>('select pg_try_advisory_lock($1) as locked', [RELAY_LOCK_KEY]);
  return rows[0]?.locked === true;
}

/** Notifications on OUTBOX_CHANNEL reach this session (commits that leave publishing to the relay). */
export async function listenForOutbox(db: Queryable): Promise<void> {
  await db.query(`listen ${OUTBOX_CHANNEL}`);
}

/** A lost clear only causes a re-publish, which JetStream and the gateways drop: the relay's session need not wait for flushes. */
export async function relaxCommitDurability(db: Queryable): Promise<void> {
  await db.query('set synchronous_commit = off');
}

export async function clearOutbox(db: Queryable, eventIds: string[]): Promise<void> {
  if (eventIds.length === 0) return;
  await db.query({ name: 'outbox.clear', text: 'delete from messages.outbox where event_id = any($1::bigint[])', values: [eventIds] });
}

/**
 * Clears `toClear` and reads the next rows that are the relay's to publish (their writer did not
 * within its grace period, or never meant to), in id order, in one statement. The outbox holds
 * only the last fraction of a second of writes, so this reads a small table.
 */
export async function readDueOutbox(db: Queryable, toClear: string[], limit: number): Promise<DueEvent[]> {
  const { rows } = await db.query<DueEvent & { seq: string }>({
    name: 'outbox.read_due',
    // The batch is picked from the outbox first, then each event looked up by id (lateral): a
    // plain join let the planner walk the whole event log in id order.
    text: `with cleared as (delete from messages.outbox where event_id = any($1::bigint[])),
     next as (
       select event_id, created_at from messages.outbox
        where relay_after <= now() and event_id <> all($1::bigint[]) order by event_id limit $2
     )
     select e.id, e.room_id, e.seq, e.event, e.trace_context, e.reply_to_seq, (extract(epoch from now() - o.created_at) * 1000)::int as age_ms
       from next o cross join lateral (select * from messages.room_events r where r.id = o.event_id) e
      order by o.event_id`,
    values: [toClear, limit],
  });
  return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
}

/** Milliseconds until the earliest row still waiting becomes the relay's; undefined when none waits. */
export async function nextDueInMs(db: Queryable): Promise<number | undefined> {
  const { rows } = await db.query<{ ms: number | null }>({
    name: 'outbox.next_due',
    text: 'select ceil(extract(epoch from min(relay_after) - now()) * 1000)::int as ms from messages.outbox',
  });
  const ms = rows[0]?.ms;
  return ms === null || ms === undefined ? undefined : Math.max(0, ms);
}

/** Age in seconds of the oldest row not yet cleared (0 when none). */
export async function oldestOutboxAgeSeconds(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ age: number | null }>(
    'select extract(epoch from now() - min(created_at))::float8 as age from messages.outbox',
  );
  return rows[0]?.age ?? 0;
}

/** Room events committed but not yet handed to JetStream. */
export async function outboxDepth(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ depth: number }>('select count(*)::int as depth from messages.outbox');
  return rows[0]?.depth ?? 0;
}
