import type { TimeIdCursor } from '@chat/shared';
import { currentTraceparent } from '@chat/shared/telemetry';
import { type Kysely, sql, type Transaction } from 'kysely';
import type pg from 'pg';
import type { HistoryPlan } from '../domain/message-rules.js';
import type { AttachmentRow, MessageRow, MessagesDatabase } from './schema.js';

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

export async function findMessages(db: Kysely<MessagesDatabase>, roomId: string, messageIds: string[]): Promise<MessageRow[]> {
  if (messageIds.length === 0) return [];
  return db
    .selectFrom('messages.messages')
    .selectAll()
    .where('room_id', '=', roomId)
    .where('id', 'in', messageIds)
    .orderBy('seq')
    .execute();
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
  await sql`
    with appended as (
      insert into messages.room_events (room_id, seq, type, event, trace_context)
      values (${roomId}, ${seq}, ${type}, ${event}, ${currentTraceparent()})
      returning id, room_id
    )
    insert into messages.outbox (event_id, room_id) select id, room_id from appended`.execute(trx);
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
      if (draft.attachments.length > 0) await claimAttachments(trx, draft);
      await appendRoomEvent(trx, draft.room_id, seq, 'message.created', encodeEvent(row));
      return row;
    });
  } catch (error) {
    if (error instanceof DuplicateClientMsgId) return undefined;
    throw error;
  }
}

/** A change to an existing message; each that changes something is a room event with its own seq. */
export type MessageChange =
  | { kind: 'edit'; body: string }
  | { kind: 'delete' }
  | { kind: 'reaction'; userId: string; emoji: string; action: 'added' | 'removed' };

export interface ReactionCount {
  message_id: string;
  emoji: string;
  count: number;
  me: boolean;
}

/**
 * Applies a change under the message's row lock: `check` may refuse it (seeing the current row),
 * a change that alters nothing writes nothing and takes no seq, and one that does is stored with
 * its event in the same transaction.
 */
export async function applyMessageChange(
  db: Kysely<MessagesDatabase>,
  roomId: string,
  messageId: string,
  change: MessageChange,
  check: (current: MessageRow) => void,
  encodeEvent: (row: MessageRow, reactions: ReactionCount[], seq: number) => string,
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
    check(current);
    const row = await applyChange(trx, current, change);
    if (!row) return { row: current, changed: false };
    const seq = await takeNextSeq(trx, roomId);
    const reactions = await loadReactionCounts(trx, [messageId], null);
    await appendRoomEvent(trx, roomId, seq, eventTypeOf(change), encodeEvent(row, reactions, seq));
    return { row, changed: true };
  });
}

function eventTypeOf(change: MessageChange): string {
  if (change.kind === 'edit') return 'message.updated';
  if (change.kind === 'delete') return 'message.deleted';
  return 'reaction.updated';
}

/** Returns the row after the change, or undefined when the change would alter nothing. */
async function applyChange(
  trx: Transaction<MessagesDatabase>,
  current: MessageRow,
  change: MessageChange,
): Promise<MessageRow | undefined> {
  switch (change.kind) {
    case 'edit':
      if (change.body === current.body) return undefined;
      return trx
        .updateTable('messages.messages')
        .set({ body: change.body, edited_at: sql`now()` })
        .where('id', '=', current.id)
        .returningAll()
        .executeTakeFirstOrThrow();
    case 'delete':
      if (current.deleted_at !== null) return undefined;
      await trx.updateTable('messages.attachments').set({ deleted_at: sql`now()` }).where('message_id', '=', current.id).execute();
      return trx
        .updateTable('messages.messages')
        .set({ deleted_at: sql`now()`, body: '', attachments: '[]' })
        .where('id', '=', current.id)
        .returningAll()
        .executeTakeFirstOrThrow();
    case 'reaction': {
      const result =
        change.action === 'added'
          ? await trx
              .insertInto('messages.reactions')
              .values({ message_id: current.id, user_id: change.userId, emoji: change.emoji })
              .onConflict((oc) => oc.columns(['message_id', 'user_id', 'emoji']).doNothing())
              .executeTakeFirst()
          : await trx
              .deleteFrom('messages.reactions')
              .where('message_id', '=', current.id)
              .where('user_id', '=', change.userId)
              .where('emoji', '=', change.emoji)
              .executeTakeFirst();
      const affected = 'numInsertedOrUpdatedRows' in result ? result.numInsertedOrUpdatedRows : result.numDeletedRows;
      return Number(affected ?? 0) > 0 ? current : undefined;
    }
  }
}

/** Reactions of some messages, aggregated per emoji in first-use order; `me` marks the viewer's. */
export async function loadReactionCounts(
  db: Kysely<MessagesDatabase> | Transaction<MessagesDatabase>,
  messageIds: string[],
  viewerId: string | null,
): Promise<ReactionCount[]> {
  if (messageIds.length === 0) return [];
  const result = await sql<ReactionCount>`
    select message_id, emoji, count(*)::int as count, coalesce(bool_or(user_id = ${viewerId}), false) as me
      from messages.reactions
     where message_id = any(${messageIds}::uuid[])
     group by message_id, emoji
     order by message_id, min(created_at), emoji`.execute(db);
  return result.rows;
}

export async function distinctEmojiCount(db: Kysely<MessagesDatabase>, messageId: string): Promise<number> {
  const row = await db
    .selectFrom('messages.reactions')
    .select((eb) => eb.fn.count<number>('emoji').distinct().as('n'))
    .where('message_id', '=', messageId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
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
/** The statement behind every subscribe, prepared once per connection (a reconnect storm runs it per socket). */
const SYNC_WINDOW = {
  name: 'messages.sync_window',
  text: `select coalesce((select last_seq from messages.room_sequences where room_id = $1), 0)::bigint as last_seq,
                exists(select 1 from messages.outbox where room_id = $1) as pending,
                case when $2::bigint is null then null else array(
                  select event from messages.room_events
                   where room_id = $1 and seq > $2::bigint order by seq limit $3
                ) end as events`,
};

export async function readSyncWindow(
  pool: Pick<pg.Pool, 'query'>,
  roomId: string,
  sinceSeq: number | undefined,
  maxEvents: number,
): Promise<{ lastSeq: number; events: string[] | null; allPublished: boolean }> {
  // One statement sees one snapshot: the last seq and the events up to it agree without a
  // transaction, in one round trip. One event more than allowed tells that the gap is too large.
  const result = await pool.query<{ last_seq: string; pending: boolean; events: string[] | null }>({
    ...SYNC_WINDOW,
    values: [roomId, sinceSeq ?? null, maxEvents + 1],
  });
  const row = result.rows[0];
  const lastSeq = Number(row?.last_seq ?? 0);
  const events = row?.events ?? [];
  return { lastSeq, events: events.length > maxEvents ? null : events, allPublished: !row?.pending };
}

/** A page of matching messages, newest first; `after` is where the previous page ended. */
export async function searchMessages(
  db: Kysely<MessagesDatabase>,
  roomIds: string[],
  query: string,
  limit: number,
  after: TimeIdCursor | undefined,
): Promise<Array<MessageRow & { created_micros: number }>> {
  if (roomIds.length === 0) return [];
  const pattern = `%${query.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const micros = sql`(extract(epoch from m.created_at) * 1000000)::bigint`;
  const page = after ? sql`and (${micros}, m.id) < (${after.micros}::bigint, ${after.id}::uuid)` : sql``;
  const result = await sql<MessageRow & { created_micros: number }>`
    select m.id, m.room_id, m.seq, m.sender_id, m.sender_name, m.client_msg_id, m.kind, m.body, m.mentions, m.reply_to,
           m.attachments, m.created_at, m.edited_at, m.deleted_at, ${micros} as created_micros
      from messages.messages m
     where m.room_id = any(${roomIds}::uuid[])
       and m.deleted_at is null
       and (m.search @@ websearch_to_tsquery('simple', ${query}) or lower(m.body) like ${pattern})
       ${page}
     order by m.created_at desc, m.id desc
     limit ${limit}`.execute(db);
  return result.rows;
}

/** Thrown when an attachment was taken by a concurrent send between resolving and claiming it. */
export class AttachmentTaken extends Error {}

/** Marks the draft's attachments as used by its message; each can belong to one message only. */
async function claimAttachments(trx: Transaction<MessagesDatabase>, draft: MessageDraft): Promise<void> {
  const ids = draft.attachments.map((a) => a.id);
  const claimed = await trx
    .updateTable('messages.attachments')
    .set({ message_id: draft.id })
    .where('id', 'in', ids)
    .where('message_id', 'is', null)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  if (Number(claimed.numUpdatedRows) !== ids.length) throw new AttachmentTaken();
}

export async function insertAttachment(
  db: Kysely<MessagesDatabase>,
  row: Omit<AttachmentRow, 'created_at' | 'message_id' | 'deleted_at'>,
): Promise<void> {
  await db.insertInto('messages.attachments').values(row).execute();
}

export async function findAttachments(db: Kysely<MessagesDatabase>, ids: string[]): Promise<AttachmentRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('messages.attachments').selectAll().where('id', 'in', ids).execute();
}
