import { idsPresent } from '@chat/shared/db';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { BatchState, NotifyDatabase, PushBatchRow, RenotifyRow } from './schema.js';

type Db = Kysely<NotifyDatabase> | Transaction<NotifyDatabase>;

/** One push that is due: this message, to this device of this user. */
export interface DueRow {
  device_token: string;
  message_id: string;
  user_id: string;
  room_id: string;
  seq: number;
  traceparent: string | null;
}

export interface OpenPair {
  user_id: string;
  room_id: string;
  first_seq: number;
}

const msFromNow = (ms: number) => sql<Date>`now() + (${ms}::double precision * interval '1 millisecond')`;

/** What recording due rows did: rows offered, rows new, and the pairs that need a coalescing job. */
export interface RecordedDue {
  offered: number;
  inserted: number;
  toSchedule: OpenPair[];
}

export interface DueTiming {
  dueInMs: number;
  leaseMs: number;
  /** Answer every pair that got new rows (urgent rows get a job of their own at once). */
  everyPair?: boolean;
}

/**
 * Records what is due, in one transaction for a whole batch of events: rows a device already
 * received, or that are already recorded, are left out. Answers the (user, room) pairs that got
 * new rows and had none open before (they need a coalescing job), and how many rows were offered
 * and how many were new. The rows come in chunks, so a large batch never holds them all (128
 * messages to 10,000 members with two devices each are 2.56 million rows); coalescing jobs and the
 * sweep still see them all at once, at the commit. `roomIds`: every room the rows are in, locked first.
 */
export async function recordDue(
  db: Kysely<NotifyDatabase>,
  roomIds: readonly string[],
  chunks: Iterable<readonly DueRow[]>,
  timing: DueTiming,
): Promise<RecordedDue> {
  return db.transaction().execute(async (trx) => {
    await lockRooms(trx, roomIds);
    const seen = new Set<string>();
    const already = new Set<string>();
    const firsts = new Map<string, OpenPair>();
    let offered = 0;
    let inserted = 0;
    for (const rows of chunks) {
      if (rows.length === 0) continue;
      offered += rows.length;
      // A pair's open rows are read before this transaction writes any of its own: for a pair
      // first met in this chunk, the same answer as one read before the first chunk, since every
      // change to which rows are open (recording, a job's claim) holds the room's lock, as we do.
      if (!timing.everyPair) {
        const fresh = uniquePairs(rows.filter((r) => !seen.has(pairKey(r.user_id, r.room_id))));
        for (const [i, user] of fresh.users.entries()) seen.add(pairKey(user, fresh.rooms[i] as string));
        if (fresh.users.length > 0) {
          const open = await sql<{ user_id: string; room_id: string }>`
          select distinct user_id, room_id from notify.push_due
          where batch_id is null
            and (user_id, room_id) in (select * from unnest(${fresh.users}::text[], ${fresh.rooms}::text[]))`.execute(trx);
          for (const r of open.rows) already.add(pairKey(r.user_id, r.room_id));
        }
      }
      const column = <K extends keyof DueRow>(key: K) => rows.map((r) => r[key]);
      const added = await sql<OpenPair>`
        insert into notify.push_due (device_token, message_id, user_id, room_id, seq, due_at, lease_until, traceparent)
        select v.device_token, v.message_id, v.user_id, v.room_id, v.seq, ${msFromNow(timing.dueInMs)},
               ${msFromNow(timing.dueInMs + timing.leaseMs)}, v.traceparent
        from unnest(${column('device_token')}::text[], ${column('message_id')}::text[], ${column('user_id')}::text[],
                    ${column('room_id')}::text[], ${column('seq')}::bigint[], ${column('traceparent')}::text[])
             as v(device_token, message_id, user_id, room_id, seq, traceparent)
        where not exists (
          select 1 from notify.push_deliveries d where d.device_token = v.device_token and d.message_id = v.message_id)
        on conflict do nothing
        returning user_id, room_id, seq as first_seq`.execute(trx);
      inserted += added.rows.length;
      for (const row of added.rows) {
        const key = pairKey(row.user_id, row.room_id);
        if (already.has(key)) continue;
        const first = firsts.get(key);
        if (!first || row.first_seq < first.first_seq) firsts.set(key, row);
      }
    }
    return { offered, inserted, toSchedule: [...firsts.values()] };
  });
}

const pairKey = (userId: string, roomId: string) => `${userId}\u0000${roomId}`;

/** The advisory-lock class of the push ledger's room stripes (any constant of this service's own). */
const ROOM_LOCK_CLASS = 7_401;
/** Stripes rooms share: a transaction holds at most this many locks, whatever the batch. */
const ROOM_LOCK_STRIPES = 64;

/**
 * Serialises, per room (a stripe of rooms) and to the end of the transaction, recording new due
 * rows with a coalescing job settling what it took. Without it a recording could see the job's
 * rows still open (so schedule nothing, as that job "will take them"), and commit after the job
 * had looked for rows left behind: its rows would wait for the sweep. Per room, not per (user,
 * room): a batch of large rooms would otherwise take a lock per member and run Postgres's shared
 * lock table out; rooms sharing a stripe only wait for each other. Taken in one order, so two
 * transactions cannot deadlock on them.
 */
export async function lockRooms(trx: Transaction<NotifyDatabase>, roomIds: readonly string[]): Promise<void> {
  if (roomIds.length === 0) return;
  const stripes = [...new Set(roomIds.map(stripeOf))].sort((a, b) => a - b);
  // One round trip; the function scan yields the array in its (sorted) order.
  await sql`select pg_advisory_xact_lock(${ROOM_LOCK_CLASS}::int, s) from unnest(${stripes}::int[]) as s`.execute(trx);
}

/**
 * How a coalescing job settles the rows it took: in one transaction under its room's lock, runs
 * `work` (claims), then answers the first seq still open, recorded while the job ran (see lockRooms).
 */
export async function settleTaken<T>(
  db: Kysely<NotifyDatabase>,
  userId: string,
  roomId: string,
  work: (trx: Transaction<NotifyDatabase>) => Promise<T>,
): Promise<{ result: T; left: number | undefined }> {
  return db.transaction().execute(async (trx) => {
    await lockRooms(trx, [roomId]);
    const result = await work(trx);
    return { result, left: await firstOpenSeq(trx, userId, roomId) };
  });
}

function stripeOf(roomId: string): number {
  let hash = 0;
  for (let i = 0; i < roomId.length; i++) hash = (hash * 31 + roomId.charCodeAt(i)) | 0;
  return Math.abs(hash) % ROOM_LOCK_STRIPES;
}

/** The first seq still open (taken by no batch) for a user in a room, under its room's lock. */
async function firstOpenSeq(trx: Transaction<NotifyDatabase>, userId: string, roomId: string): Promise<number | undefined> {
  const row = await trx
    .selectFrom('notify.push_due')
    .select((eb) => eb.fn.min('seq').as('seq'))
    .where('user_id', '=', userId)
    .where('room_id', '=', roomId)
    .where('batch_id', 'is', null)
    .executeTakeFirst();
  return row?.seq === null || row?.seq === undefined ? undefined : Number(row.seq);
}

function uniquePairs(rows: readonly { user_id: string; room_id: string }[]) {
  const seen = new Set<string>();
  const users: string[] = [];
  const rooms: string[] = [];
  for (const row of rows) {
    const key = pairKey(row.user_id, row.room_id);
    if (seen.has(key)) continue;
    seen.add(key);
    users.push(row.user_id);
    rooms.push(row.room_id);
  }
  return { users, rooms };
}

/** What is due to a user in a room and not yet taken by a batch, oldest first; its lease renewed. */
export async function takeOpenDue(
  db: Kysely<NotifyDatabase>,
  userId: string,
  roomId: string,
  leaseMs: number,
): Promise<Array<DueRow & { due_at: Date }>> {
  return db
    .updateTable('notify.push_due')
    .set({ lease_until: msFromNow(leaseMs) })
    .where('user_id', '=', userId)
    .where('room_id', '=', roomId)
    .where('batch_id', 'is', null)
    .returning(['device_token', 'message_id', 'user_id', 'room_id', 'seq', 'traceparent', 'due_at'])
    .execute()
    .then((rows) => rows.sort((a, b) => a.seq - b.seq));
}

/** Marks open rows of one device as taken by `batchId` (or dropped); answers the message ids it got. */
export async function claimDue(trx: Db, deviceToken: string, messageIds: readonly string[], batchId: string): Promise<string[]> {
  if (messageIds.length === 0) return [];
  const rows = await trx
    .updateTable('notify.push_due')
    .set({ batch_id: batchId })
    .where('device_token', '=', deviceToken)
    .where('message_id', 'in', messageIds)
    .where('batch_id', 'is', null)
    .returning('message_id')
    .execute();
  return rows.map((r) => r.message_id);
}

export async function insertBatch(
  trx: Db,
  batch: Omit<PushBatchRow, 'state' | 'attempts' | 'created_at' | 'finished_at' | 'last_error' | 'lease_until' | 'notification'> & {
    notification: unknown;
    leaseMs: number;
  },
): Promise<void> {
  const { leaseMs, notification, ...rest } = batch;
  await trx
    .insertInto('notify.push_batches')
    .values({ ...rest, notification: JSON.stringify(notification), lease_until: msFromNow(leaseMs) })
    .execute();
}

/** Starts an attempt of a pending batch: counts it and renews the lease. Undefined when it is not pending. */
export async function startAttempt(db: Db, batchId: string, leaseMs: number): Promise<PushBatchRow | undefined> {
  return db
    .updateTable('notify.push_batches')
    .set({ attempts: sql`attempts + 1`, lease_until: msFromNow(leaseMs) })
    .where('id', '=', batchId)
    .where('state', '=', 'pending')
    .returningAll()
    .executeTakeFirst();
}

export function deliveredAmong(db: Db, deviceToken: string, messageIds: readonly string[]): Promise<Set<string>> {
  return idsPresent(db, 'notify.push_deliveries', 'message_id', messageIds, ['device_token', deviceToken]);
}

/** The provider accepted: the device's record gets every message of the batch, and the batch is done. */
export async function recordDelivered(db: Kysely<NotifyDatabase>, batch: Pick<PushBatchRow, 'id' | 'device_token' | 'message_ids'>) {
  await db.transaction().execute(async (trx) => {
    await sql`
      insert into notify.push_deliveries (device_token, message_id, batch_id)
      select ${batch.device_token}, m, ${batch.id} from unnest(${batch.message_ids}::text[]) as m
      on conflict do nothing`.execute(trx);
    await finishBatch(trx, batch.id, 'delivered', null);
  });
}

export async function finishBatch(db: Db, batchId: string, state: Exclude<BatchState, 'pending'>, error: string | null) {
  await db
    .updateTable('notify.push_batches')
    .set({ state, finished_at: sql`now()`, last_error: error })
    .where('id', '=', batchId)
    .execute();
}

/** A transient failure: the job retries after its back-off, so the sweep leaves it alone until then. */
export async function postponeBatch(db: Db, batchId: string, leaseMs: number, error: string) {
  await db
    .updateTable('notify.push_batches')
    .set({ lease_until: msFromNow(leaseMs), last_error: error })
    .where('id', '=', batchId)
    .where('state', '=', 'pending')
    .execute();
}

/**
 * Open due rows whose lease ran out (their coalescing job was lost): leased again for `leaseMs`
 * and answered per (user, room). `skip locked` lets several workers sweep side by side.
 */
export async function leaseOverdueDue(db: Kysely<NotifyDatabase>, leaseMs: number, limit: number): Promise<OpenPair[]> {
  const result = await sql<OpenPair>`
    with overdue as (
      select device_token, message_id from notify.push_due
      where batch_id is null and lease_until < now()
      order by lease_until limit ${limit} for update skip locked)
    update notify.push_due p set lease_until = ${msFromNow(leaseMs)}
    from overdue o where p.device_token = o.device_token and p.message_id = o.message_id
    returning p.user_id, p.room_id, p.seq as first_seq`.execute(db);
  const firsts = new Map<string, OpenPair>();
  for (const row of result.rows) {
    const key = pairKey(row.user_id, row.room_id);
    const seen = firsts.get(key);
    if (!seen || row.first_seq < seen.first_seq) firsts.set(key, row);
  }
  return [...firsts.values()];
}

/** Pending batches whose lease ran out (their delivery job was lost or died): leased again, ids answered. */
export async function leaseOverdueBatches(db: Kysely<NotifyDatabase>, leaseMs: number, limit: number): Promise<string[]> {
  const result = await sql<{ id: string }>`
    with overdue as (
      select id from notify.push_batches where state = 'pending' and lease_until < now()
      order by lease_until limit ${limit} for update skip locked)
    update notify.push_batches b set lease_until = ${msFromNow(leaseMs)}
    from overdue o where b.id = o.id
    returning b.id`.execute(db);
  return result.rows.map((r) => r.id);
}

/** Forgets what is older than the retention (dead letters are kept a week at least, for operators). */
export async function purgeLedger(db: Kysely<NotifyDatabase>, retentionHours: number): Promise<void> {
  const cutoff = sql<Date>`now() - (${retentionHours}::double precision * interval '1 hour')`;
  const deadCutoff = sql<Date>`now() - (${Math.max(retentionHours, 7 * 24)}::double precision * interval '1 hour')`;
  await db.deleteFrom('notify.push_deliveries').where('delivered_at', '<', cutoff).execute();
  await db.deleteFrom('notify.push_due').where('batch_id', 'is not', null).where('created_at', '<', cutoff).execute();
  await db.deleteFrom('notify.renotify').where('finished_at', '<', cutoff).execute();
  await db
    .deleteFrom('notify.push_batches')
    .where((eb) =>
      eb.or([
        eb.and([eb('state', 'in', ['delivered', 'dropped']), eb('finished_at', '<', cutoff)]),
        eb.and([eb('state', '=', 'dead'), eb('finished_at', '<', deadCutoff)]),
      ]),
    )
    .execute();
}

/** What the ledger holds unfinished, and how far past its lease the oldest overdue entry is. */
export async function ledgerHealth(db: Kysely<NotifyDatabase>): Promise<{ unfinished: number; overdueSeconds: number }> {
  const result = await sql<{ unfinished: string; oldest: Date | null }>`
    select
      (select count(*) from notify.push_due where batch_id is null)
        + (select count(*) from notify.push_batches where state = 'pending') as unfinished,
      least(
        (select min(lease_until) from notify.push_due where batch_id is null),
        (select min(lease_until) from notify.push_batches where state = 'pending')) as oldest`.execute(db);
  const row = result.rows[0];
  const oldest = row?.oldest ? new Date(row.oldest).getTime() : Date.now();
  return { unfinished: Number(row?.unfinished ?? 0), overdueSeconds: Math.max(0, (Date.now() - oldest) / 1000) };
}

export async function deadBatches(db: Kysely<NotifyDatabase>, limit: number): Promise<PushBatchRow[]> {
  return db.selectFrom('notify.push_batches').selectAll().where('state', '=', 'dead').orderBy('finished_at', 'desc').limit(limit).execute();
}

/** Dead letters made pending again, with an expired lease so the next sweep queues them. */
export async function reviveBatches(db: Kysely<NotifyDatabase>, ids: readonly string[] | 'all'): Promise<string[]> {
  let query = db
    .updateTable('notify.push_batches')
    .set({ state: 'pending', attempts: 0, finished_at: null, lease_until: sql`now()` })
    .where('state', '=', 'dead');
  if (ids !== 'all') query = query.where('id', 'in', ids.length ? ids : ['']);
  const rows = await query.returning('id').execute();
  return rows.map((r) => r.id);
}

/** Messages that asked for acknowledgement, to re-notify `firstInMs` from now; a repeat adds nothing. */
export async function recordRenotify(
  db: Kysely<NotifyDatabase>,
  rows: ReadonlyArray<{ message_id: string; room_id: string; seq: number; traceparent: string | null }>,
  firstInMs: number,
): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto('notify.renotify')
    .values(rows.map((r) => ({ ...r, next_at: msFromNow(firstInMs) })))
    .onConflict((oc) => oc.column('message_id').doNothing())
    .execute();
}

/**
 * Re-notification rounds that are due, leased for `leaseMs` (their `next_at` moved that far ahead,
 * so a round whose worker dies is taken again then). `skip locked` lets workers share the work.
 */
export async function leaseDueRenotify(db: Kysely<NotifyDatabase>, leaseMs: number, limit: number): Promise<RenotifyRow[]> {
  const result = await sql<RenotifyRow>`
    with due as (
      select message_id from notify.renotify
      where finished_at is null and next_at <= now()
      order by next_at limit ${limit} for update skip locked)
    update notify.renotify r set next_at = ${msFromNow(leaseMs)}
    from due d where r.message_id = d.message_id
    returning r.*`.execute(db);
  return result.rows.map((r) => ({ ...r, seq: Number(r.seq) }));
}

/**
 * Closes a round: its batches are recorded (their ids name the message, device and round, so a
 * round taken again after a crash adds nothing), the count moves on and the next round is
 * scheduled, or the row is finished. Guarded by the round it read: a round already closed by
 * another worker changes nothing. Answers the batch ids recorded now.
 */
export async function closeRenotifyRound(
  db: Kysely<NotifyDatabase>,
  row: Pick<RenotifyRow, 'message_id' | 'rounds_done'>,
  outcome: { batches: Array<Parameters<typeof insertBatch>[1]>; nextInMs: number; finished: boolean; counted: boolean },
): Promise<string[]> {
  return db.transaction().execute(async (trx) => {
    const moved = await trx
      .updateTable('notify.renotify')
      .set({
        rounds_done: outcome.counted ? row.rounds_done + 1 : row.rounds_done,
        next_at: msFromNow(outcome.nextInMs),
        finished_at: outcome.finished ? sql<Date>`now()` : null,
      })
      .where('message_id', '=', row.message_id)
      .where('rounds_done', '=', row.rounds_done)
      .where('finished_at', 'is', null)
      .executeTakeFirst();
    if (Number(moved.numUpdatedRows) === 0) return [];
    const made: string[] = [];
    for (const batch of outcome.batches) {
      const { leaseMs, notification, ...rest } = batch;
      const inserted = await trx
        .insertInto('notify.push_batches')
        .values({ ...rest, notification: JSON.stringify(notification), lease_until: msFromNow(leaseMs) })
        .onConflict((oc) => oc.column('id').doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0) made.push(batch.id);
    }
    return made;
  });
}
