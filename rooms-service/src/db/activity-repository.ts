import type { RoomActivity } from '@chat/shared';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { RoomsDatabase } from './schema.js';

type Db = Kysely<RoomsDatabase> | Transaction<RoomsDatabase>;

/** Writes host events into the outbox, in the transaction of the change they announce. */
export async function insertActivity(db: Db, events: readonly RoomActivity[]): Promise<void> {
  if (events.length === 0) return;
  await db
    .insertInto('rooms.activity_outbox')
    .values(events.map((e) => ({ id: e.id, room_id: e.room_id, type: e.type, data: JSON.stringify(e.data), occurred_at: e.occurred_at })))
    .execute();
}

/** JetStream has it: the row goes. */
export async function deleteActivity(db: Db, id: string): Promise<void> {
  await db.deleteFrom('rooms.activity_outbox').where('id', '=', id).execute();
}

/** Rows older than `olderThanMs` (the database's clock), in write order: left by a process that died before JetStream's ack. */
export async function unrecordedActivity(db: Db, olderThanMs: number, limit: number): Promise<RoomActivity[]> {
  const rows = await db
    .selectFrom('rooms.activity_outbox')
    .select(['id', 'room_id', 'type', 'data', 'occurred_at'])
    .where('created_at', '<', sql<Date>`now() - (${olderThanMs}::double precision * interval '1 millisecond')`)
    .orderBy('position')
    .limit(limit)
    .execute();
  return rows.map(
    (r) => ({ id: r.id, room_id: r.room_id, type: r.type, data: r.data, occurred_at: r.occurred_at.toISOString() }) as RoomActivity,
  );
}
