import { type Kysely, sql, type Transaction } from 'kysely';
import type { HistoryPlan } from '../domain/message-rules.js';
import type { MessageRow, MessagesDatabase } from './schema.js';

export const OUTBOX_CHANNEL = 'messages_outbox';

export async function findByClientMsgId(
  db: Kysely<MessagesDatabase>,
  senderId: string,
  clientMsgId: string,
): Promise<MessageRow | undefined> {
  return db
    .selectFrom('messages.messages')
    .selectAll()
    .where('sender_id', '=', senderId)
    .where('client_msg_id', '=', clientMsgId)
    .executeTakeFirst();
}

export async function findMessage(db: Kysely<MessagesDatabase>, roomId: string, messageId: string): Promise<MessageRow | undefined> {
  return db.selectFrom('messages.messages').selectAll().where('id', '=', messageId).where('room_id', '=', roomId).executeTakeFirst();
}

export async function readLastSeq(db: Kysely<MessagesDatabase>, roomId: string): Promise<number> {
  const row = await db.selectFrom('messages.room_sequences').select('last_seq').where('room_id', '=', roomId).executeTakeFirst();
  return row?.last_seq ?? 0;
}

export async function messageExistsInRoom(db: Kysely<MessagesDatabase>, messageId: string, roomId: string): Promise<boolean> {
  const row = await db
    .selectFrom('messages.messages')
    .select('id')
    .where('id', '=', messageId)
    .where('room_id', '=', roomId)
    .executeTakeFirst();
  return row !== undefined;
}

export interface MessageDraft {
  id: string;
  room_id: string;
  sender_id: string;
  sender_name: string | null;
  client_msg_id: string;
  kind: MessageRow['kind'];
  body: string;
  mentions: string[];
  reply_to: string | null;
  attachments: MessageRow['attachments'];
}

/** Thrown inside the transaction to undo the seq it took when the idempotency key was taken. */
class DuplicateClientMsgId extends Error {}

/** Takes the room's next seq; the row lock it holds until commit keeps each room's seq gapless. */
async function takeNextSeq(trx: Transaction<MessagesDatabase>, roomId: string): Promise<number> {
  const { last_seq } = await trx
    .insertInto('messages.room_sequences')
    .values({ room_id: roomId, last_seq: 1 })
    .onConflict((oc) => oc.column('room_id').doUpdateSet({ last_seq: sql`messages.room_sequences.last_seq + 1` }))
    .returning('last_seq')
    .executeTakeFirstOrThrow();
  return last_seq;
}

/** Appends an event to the room's log (the outbox) and wakes the relay when the transaction commits. */
async function appendRoomEvent(
  trx: Transaction<MessagesDatabase>,
  roomId: string,
  seq: number,
  type: string,
  event: string,
): Promise<void> {
  await trx.insertInto('messages.room_events').values({ room_id: roomId, seq, type, event }).execute();
  await sql`select pg_notify(${OUTBOX_CHANNEL}, '')`.execute(trx);
}

/**
 * Stores a message with the room's next seq and its event in one transaction. Returns undefined
 * when (sender, client_msg_id) already exists: nothing was written, not even a seq.
 */
export async function insertMessageWithEvent(
  db: Kysely<MessagesDatabase>,
  draft: MessageDraft,
  encodeEvent: (row: MessageRow) => string,
): Promise<MessageRow | undefined> {
  try {
    return await db.transaction().execute(async (trx) => {
      const seq = await takeNextSeq(trx, draft.room_id);
      const row = await trx
        .insertInto('messages.messages')
        .values({ ...draft, seq, attachments: JSON.stringify(draft.attachments) })
        .onConflict((oc) => oc.columns(['sender_id', 'client_msg_id']).doNothing())
        .returningAll()
        .executeTakeFirst();
      if (!row) throw new DuplicateClientMsgId();
      await appendRoomEvent(trx, draft.room_id, seq, 'message.created', encodeEvent(row));
      return row;
    });
  } catch (error) {
    if (error instanceof DuplicateClientMsgId) return undefined;
    throw error;
  }
}

/**
 * Soft-deletes a message: its body and attachments are erased, its place and seq stay, and a
 * `message.deleted` event takes the room's next seq. Deleting a deleted message changes nothing.
 */
export async function softDeleteMessageWithEvent(
  db: Kysely<MessagesDatabase>,
  roomId: string,
  messageId: string,
  encodeEvent: (row: MessageRow, seq: number) => string,
): Promise<{ row: MessageRow; changed: boolean } | undefined> {
  return db.transaction().execute(async (trx) => {
    const current = await trx
      .selectFrom('messages.messages')
      .selectAll()
      .where('id', '=', messageId)
      .where('room_id', '=', roomId)
      .forUpdate()
      .executeTakeFirst();
    if (!current) return undefined;
    if (current.deleted_at !== null) return { row: current, changed: false };
    const seq = await takeNextSeq(trx, roomId);
    const row = await trx
      .updateTable('messages.messages')
      .set({ deleted_at: sql`now()`, body: '', attachments: '[]' })
      .where('id', '=', messageId)
      .returningAll()
      .executeTakeFirstOrThrow();
    await appendRoomEvent(trx, roomId, seq, 'message.deleted', encodeEvent(row, seq));
    return { row, changed: true };
  });
}

export async function readHistory(
  db: Kysely<MessagesDatabase>,
  roomId: string,
  plan: HistoryPlan,
): Promise<{ rows: MessageRow[]; more: boolean }> {
  let query = db.selectFrom('messages.messages').selectAll().where('room_id', '=', roomId);
  if (plan.beforeSeq !== undefined) query = query.where('seq', '<', plan.beforeSeq);
  if (plan.afterSeq !== undefined) query = query.where('seq', '>', plan.afterSeq);
  const rows = await query
    .orderBy('seq', plan.direction === 'older' ? 'desc' : 'asc')
    .limit(plan.limit + 1)
    .execute();
  const more = rows.length > plan.limit;
  const page = rows.slice(0, plan.limit);
  if (plan.direction === 'older') page.reverse();
  return { rows: page, more };
}

/**
 * One consistent snapshot of what a subscriber missed: the room's last seq, the events after
 * `sinceSeq` (unless more than `maxEvents`), and whether all of them had reached NATS.
 */
export async function readSyncWindow(
  db: Kysely<MessagesDatabase>,
  roomId: string,
  sinceSeq: number | undefined,
  maxEvents: number,
): Promise<{ lastSeq: number; events: string[] | null; allPublished: boolean }> {
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute(async (trx) => {
      const sequence = await trx.selectFrom('messages.room_sequences').select('last_seq').where('room_id', '=', roomId).executeTakeFirst();
      const lastSeq = sequence?.last_seq ?? 0;
      const pending = await trx
        .selectFrom('messages.room_events')
        .select('seq')
        .where('room_id', '=', roomId)
        .where('published_at', 'is', null)
        .limit(1)
        .executeTakeFirst();
      if (sinceSeq === undefined || sinceSeq >= lastSeq) return { lastSeq, events: [], allPublished: pending === undefined };
      if (lastSeq - sinceSeq > maxEvents) return { lastSeq, events: null, allPublished: pending === undefined };
      const rows = await trx
        .selectFrom('messages.room_events')
        .select('event')
        .where('room_id', '=', roomId)
        .where('seq', '>', sinceSeq)
        .orderBy('seq', 'asc')
        .execute();
      return { lastSeq, events: rows.map((r) => r.event), allPublished: pending === undefined };
    });
}
