import type { TimeIdCursor } from '@chat/shared';
import { epochMicros, idsPresent, pastTimeIdCursor } from '@chat/shared/db';
import { currentTraceparent } from '@chat/shared/telemetry';
import { type Kysely, sql, type Transaction } from 'kysely';
import type pg from 'pg';
import { AttachmentTaken, type HistoryPlan, ThreadRootRefused } from '../domain/message-rules.js';
import type { MessageChange } from '../domain/ports.js';
import type { MessageDraft, ReactionCount, ThreadSummaryRow } from '../domain/rows.js';
import { OUTBOX_CHANNEL } from './outbox-repository.js';
import type { AttachmentRow, MessageRow, MessagesDatabase } from './schema.js';
import { indexMessages } from './search-index.js';

/** One message of a room: its key in a where (a filter object, so never an array: that is not `in`). */
const roomMessage = (roomId: string, messageId: string) => ({ room_id: roomId, id: messageId });

export async function findByClientMsgId(
  db: Kysely<MessagesDatabase>,
  senderId: string,
  clientMsgId: string,
): Promise<MessageRow | undefined> {
  return db
    .selectFrom('messages.messages')
    .selectAll()
    .where((eb) => eb.and({ sender_id: senderId, client_msg_id: clientMsgId }))
    .executeTakeFirst();
}

export async function findMessage(db: Kysely<MessagesDatabase>, roomId: string, messageId: string): Promise<MessageRow | undefined> {
  return db
    .selectFrom('messages.messages')
    .selectAll()
    .where((eb) => eb.and(roomMessage(roomId, messageId)))
    .executeTakeFirst();
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

/** The seq of a message of the room, or undefined when the room has no such message. */
export async function findMessageSeq(db: Kysely<MessagesDatabase>, messageId: string, roomId: string): Promise<number | undefined> {
  const row = await db
    .selectFrom('messages.messages')
    .select('seq')
    .where((eb) => eb.and(roomMessage(roomId, messageId)))
    .executeTakeFirst();
  return row?.seq;
}

/** The seqs of those of these messages that are in the room. */
export async function findMessageSeqs(db: Kysely<MessagesDatabase>, roomId: string, messageIds: string[]): Promise<Map<string, number>> {
  if (messageIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('messages.messages')
    .select(['id', 'seq'])
    .where('room_id', '=', roomId)
    .where('id', 'in', messageIds)
    .execute();
  return new Map(rows.map((r) => [r.id, r.seq]));
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
  /** The message's `reply_to`: its seq is kept beside the event (for late joiners' gateways). */
  replyTo: string | null,
): Promise<void> {
  const replyToSeq = replyTo ? sql`(select seq from messages.messages where id = ${replyTo})` : sql`null`;
  await sql`
    with appended as (
      insert into messages.room_events (room_id, seq, type, event, trace_context, reply_to_seq)
      values (${roomId}, ${seq}, ${type}, ${event}, ${currentTraceparent()}, ${replyToSeq})
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
  /** For a message with ack_requested: who is asked (the members at send time, less the sender). */
  ackRecipients: readonly string[] = [],
  /** A thread root must come after this seq (joined history). */
  rootAfterSeq = 0,
): Promise<MessageRow | undefined> {
  try {
    return await db.transaction().execute(async (trx) => {
      if (draft.thread_root_id !== null && !(await isThreadRoot(trx, draft.thread_root_id, draft.room_id, rootAfterSeq))) {
        throw new ThreadRootRefused();
      }
      const seq = await takeNextSeq(trx, draft.room_id);
      const row = await trx
        .insertInto('messages.messages')
        .values({ ...draft, seq, attachments: JSON.stringify(draft.attachments) })
        .onConflict((oc) => oc.columns(['sender_id', 'client_msg_id']).doNothing())
        .returningAll()
        .executeTakeFirst();
      if (!row) throw new DuplicateClientMsgId();
      if (draft.attachments.length > 0) await claimAttachments(trx, draft);
      if (draft.ack_requested) {
        await trx
          .insertInto('messages.acknowledgement_requests')
          .values({ message_id: row.id, room_id: row.room_id, recipients: [...ackRecipients] })
          .execute();
      }
      await appendRoomEvent(trx, draft.room_id, seq, 'message.created', encodeEvent(row), row.reply_to);
      return row;
    });
  } catch (error) {
    if (error instanceof DuplicateClientMsgId) return undefined;
    throw error;
  }
}

/** A top-level message of the room: what a thread reply may name as its root (DESIGN 10.5). */
async function isThreadRoot(trx: Transaction<MessagesDatabase>, messageId: string, roomId: string, afterSeq: number): Promise<boolean> {
  const row = await trx
    .selectFrom('messages.messages')
    .select('id')
    .where((eb) => eb.and(roomMessage(roomId, messageId)))
    .where('thread_root_id', 'is', null)
    .where('seq', '>', afterSeq)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Summaries of those of `rootIds` that have replies not deleted: computed from the replies (index
 * per thread) when a page is read, so sends never touch the root. Participants are the repliers
 * in the order of their first reply, at most 10.
 */
export async function loadThreadSummaries(
  db: Kysely<MessagesDatabase> | Transaction<MessagesDatabase>,
  rootIds: string[],
): Promise<ThreadSummaryRow[]> {
  if (rootIds.length === 0) return [];
  const result = await sql<ThreadSummaryRow>`
    select r.root_id, s.reply_count, s.last_reply_at,
           array(select p.sender_id from messages.messages p
                  where p.thread_root_id = r.root_id and p.deleted_at is null
                  group by p.sender_id order by min(p.seq) limit 10) as participant_ids
      from unnest(${rootIds}::uuid[]) as r(root_id)
      cross join lateral (
        select count(*)::int as reply_count, max(m.created_at) as last_reply_at
          from messages.messages m
         where m.thread_root_id = r.root_id and m.deleted_at is null
      ) s
     where s.reply_count > 0`.execute(db);
  return result.rows;
}

/** For pushes: each root's author and everyone who replied in its thread (DESIGN 10.5: notified as if mentioned). */
export async function loadThreadParticipants(db: Kysely<MessagesDatabase>, rootIds: string[]): Promise<Map<string, string[]>> {
  if (rootIds.length === 0) return new Map();
  const result = await sql<{ root_id: string; participant_ids: string[] }>`
    select r.id as root_id,
           array(select r.sender_id union
                 select p.sender_id from messages.messages p where p.thread_root_id = r.id and p.deleted_at is null
                 limit 1000) as participant_ids
      from messages.messages r
     where r.id = any(${rootIds}::uuid[])`.execute(db);
  return new Map(result.rows.map((row) => [row.root_id, row.participant_ids]));
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
      .where((eb) => eb.and(roomMessage(roomId, messageId)))
      .forUpdate()
      .executeTakeFirst();
    if (!current) return undefined;
    check(current);
    const row = await applyChange(trx, current, change);
    if (!row) return { row: current, changed: false };
    // An edit or delete writes the message's search document itself (the indexer would only a
    // moment later): a search right after it never matches the old text.
    if (change.kind !== 'reaction') await indexMessages(trx, [messageId]);
    const seq = await takeNextSeq(trx, roomId);
    const reactions = await loadReactionCounts(trx, [messageId], null);
    await appendRoomEvent(trx, roomId, seq, eventTypeOf(change), encodeEvent(row, reactions, seq), row.reply_to);
    return { row, changed: true };
  });
}

function eventTypeOf(change: MessageChange): string {
  if (change.kind === 'edit') return 'message.updated';
  if (change.kind === 'delete') return 'message.deleted';
  if (change.kind === 'acknowledge') return 'message.acknowledged';
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
      const reaction = { message_id: current.id, user_id: change.userId, emoji: change.emoji };
      const result =
        change.action === 'added'
          ? await trx
              .insertInto('messages.reactions')
              .values(reaction)
              .onConflict((oc) => oc.columns(['message_id', 'user_id', 'emoji']).doNothing())
              .executeTakeFirst()
          : await trx
              .deleteFrom('messages.reactions')
              .where((eb) => eb.and(reaction))
              .executeTakeFirst();
      const affected = 'numInsertedOrUpdatedRows' in result ? result.numInsertedOrUpdatedRows : result.numDeletedRows;
      return Number(affected ?? 0) > 0 ? current : undefined;
    }
    case 'acknowledge': {
      // A repeat finds its row and changes nothing: no count, no event, no seq.
      const inserted = await trx
        .insertInto('messages.acknowledgements')
        .values({ message_id: current.id, user_id: change.userId, name: change.name })
        .onConflict((oc) => oc.columns(['message_id', 'user_id']).doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) return undefined;
      return trx
        .updateTable('messages.messages')
        .set({ ack_count: sql`ack_count + 1` })
        .where('id', '=', current.id)
        .returningAll()
        .executeTakeFirstOrThrow();
    }
  }
}

/** Which of these messages the viewer has acknowledged. */
export function acknowledgedBy(db: Kysely<MessagesDatabase>, messageIds: string[], viewerId: string): Promise<Set<string>> {
  return idsPresent(db, 'messages.acknowledgements', 'message_id', messageIds, ['user_id', viewerId]);
}

/** Who acknowledged a message (first first), and who of those asked has not. */
export async function readAcknowledgements(
  db: Kysely<MessagesDatabase>,
  messageId: string,
): Promise<{ items: Array<{ user_id: string; name: string | null; acknowledged_at: Date }>; pending: string[] }> {
  const [items, request] = await Promise.all([
    db
      .selectFrom('messages.acknowledgements')
      .select(['user_id', 'name', 'acknowledged_at'])
      .where('message_id', '=', messageId)
      .orderBy('acknowledged_at')
      .orderBy('user_id')
      .execute(),
    db.selectFrom('messages.acknowledgement_requests').select('recipients').where('message_id', '=', messageId).executeTakeFirst(),
  ]);
  const acknowledged = new Set(items.map((i) => i.user_id));
  return { items, pending: (request?.recipients ?? []).filter((id) => !acknowledged.has(id)) };
}

/** For messages that asked for acknowledgements: who of those asked has not acknowledged yet. */
export async function pendingAcknowledgements(db: Kysely<MessagesDatabase>, messageIds: string[]): Promise<Map<string, string[]>> {
  if (messageIds.length === 0) return new Map();
  const result = await sql<{ message_id: string; pending: string[] }>`
    select r.message_id,
           array(select u from unnest(r.recipients) as u
                  where not exists (select 1 from messages.acknowledgements a where a.message_id = r.message_id and a.user_id = u)
                  order by u) as pending
      from messages.acknowledgement_requests r
     where r.message_id = any(${messageIds}::uuid[])`.execute(db);
  return new Map(result.rows.map((r) => [r.message_id, r.pending]));
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
  visibleFromSeq = 0,
): Promise<{ rows: MessageRow[]; more: boolean }> {
  let query = db.selectFrom('messages.messages').selectAll().where('room_id', '=', roomId);
  if (plan.threadRootId !== undefined) query = query.where('thread_root_id', '=', plan.threadRootId);
  else if (plan.topLevel) query = query.where('thread_root_id', 'is', null);
  // Joined history: what came before the reader joined does not exist for them.
  if (visibleFromSeq > 0) query = query.where('seq', '>', visibleFromSeq);
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
/**
 * Many subscribes' windows in one statement, so one snapshot and one round trip for a burst of
 * subscribes: per request its room's last seq, whether the outbox still holds any of the room's
 * events, and (with a since seq) the events after it, one more than allowed to tell a gap that is
 * too large.
 */
const SYNC_WINDOWS = {
  name: 'messages.sync_windows',
  text: `select coalesce(s.last_seq, 0)::bigint as last_seq,
                exists(select 1 from messages.outbox o where o.room_id = r.room_id) as pending,
                case when r.since is null then null else array(
                  select e.event from messages.room_events e
                   where e.room_id = r.room_id and e.seq > r.since order by e.seq limit r.lim
                ) end as events
           from unnest($1::uuid[], $2::bigint[], $3::int[]) with ordinality as r(room_id, since, lim, ord)
           left join messages.room_sequences s on s.room_id = r.room_id
          order by r.ord`,
};

export interface SyncWindowRequest {
  roomId: string;
  sinceSeq: number | undefined;
  maxEvents: number;
}

export interface SyncWindow {
  lastSeq: number;
  /** Null when more than `maxEvents` were missed (resync). */
  events: string[] | null;
  allPublished: boolean;
}

export async function readSyncWindows(pool: Pick<pg.Pool, 'query'>, requests: SyncWindowRequest[]): Promise<SyncWindow[]> {
  if (requests.length === 0) return [];
  const result = await pool.query<{ last_seq: string; pending: boolean; events: string[] | null }>({
    ...SYNC_WINDOWS,
    values: [requests.map((r) => r.roomId), requests.map((r) => r.sinceSeq ?? null), requests.map((r) => r.maxEvents + 1)],
  });
  return requests.map((request, i) => {
    const row = result.rows[i];
    const events = row?.events ?? [];
    return {
      lastSeq: Number(row?.last_seq ?? 0),
      events: events.length > request.maxEvents ? null : events,
      allPublished: !row?.pending,
    };
  });
}

/** The last seqs of those rooms that have events. */
export async function readLastSeqs(pool: Pick<pg.Pool, 'query'>, roomIds: string[]): Promise<Map<string, number>> {
  const { rows } = await pool.query<{ room_id: string; last_seq: string }>({
    name: 'messages.last_seqs',
    text: 'select room_id, last_seq from messages.room_sequences where room_id = any($1::uuid[])',
    values: [roomIds],
  });
  return new Map(rows.map((r) => [r.room_id, Number(r.last_seq)]));
}

/** Committed events of a room after `afterSeq`, in seq order, exactly as they were published. */
export async function readRoomLog(
  pool: Pick<pg.Pool, 'query'>,
  roomId: string,
  afterSeq: number,
  limit: number,
): Promise<Array<{ event: string; reply_to_seq: number | null }>> {
  const { rows } = await pool.query<{ event: string; reply_to_seq: number | null }>({
    name: 'messages.room_log_with_reply_seqs',
    text: 'select event, reply_to_seq from messages.room_events where room_id = $1 and seq > $2 order by seq limit $3',
    values: [roomId, afterSeq, limit],
  });
  return rows;
}

/** Shorter queries skip the substring match (and its trigram index). */
export const SUBSTRING_MIN_CHARS = 3;

/**
 * A page of matching messages, newest first; `after` is where the previous page ended. Matches
 * are found in the search documents (written by the search indexer, see search-index.ts); the
 * message itself comes from its row, so a deleted message is never returned.
 */
export async function searchMessages(
  db: Kysely<MessagesDatabase>,
  roomIds: string[],
  query: string,
  limit: number,
  after: TimeIdCursor | undefined,
  /** Rooms where the reader sees only messages after a seq (joined history): room id → that seq. */
  visibleFrom: ReadonlyMap<string, number> = new Map(),
): Promise<Array<MessageRow & { created_micros: number }>> {
  if (roomIds.length === 0) return [];
  const floors = [...visibleFrom].filter(([, seq]) => seq > 0);
  const visible = floors.length
    ? sql`and m.seq > coalesce((${JSON.stringify(Object.fromEntries(floors))}::jsonb ->> m.room_id::text)::bigint, 0)`
    : sql``;
  const pattern = `%${query.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  // A substring of one or two characters matches nearly every row and cannot use the trigram
  // index (it needs three): such queries match whole words through the full-text index only.
  const substring = [...query].length >= SUBSTRING_MIN_CHARS ? sql`or lower(d.body) like ${pattern}` : sql``;
  const micros = epochMicros('d.created_at');
  const page = after ? sql`and ${pastTimeIdCursor('d.created_at', 'd.message_id', after, 'newest_first')}` : sql``;
  const result = await sql<MessageRow & { created_micros: number }>`
    select m.id, m.room_id, m.seq, m.sender_id, m.sender_name, m.client_msg_id, m.kind, m.body, m.mentions, m.reply_to, m.thread_root_id,
           m.attachments, m.priority, m.ack_requested, m.ack_count, m.created_at, m.edited_at, m.deleted_at, ${micros} as created_micros
      from messages.search_docs d
      join messages.messages m on m.id = d.message_id
     where d.room_id = any(${roomIds}::uuid[])
       and m.deleted_at is null
       and (d.search @@ websearch_to_tsquery('simple', ${query}) ${substring})
       ${visible}
       ${page}
     order by d.created_at desc, d.message_id desc
     limit ${limit}`.execute(db);
  return result.rows;
}

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
  row: Omit<AttachmentRow, 'created_at' | 'message_id' | 'deleted_at' | 'sweep_until' | 'blob_deleted_at'>,
): Promise<void> {
  await db.insertInto('messages.attachments').values(row).execute();
}

/** What a user uploaded in the last 24 hours (deleted uploads count: they were stored). */
export async function uploadedInLastDay(db: Kysely<MessagesDatabase>, uploaderId: string): Promise<{ bytes: number; oldest: Date | null }> {
  const row = await db
    .selectFrom('messages.attachments')
    .select((eb) => [eb.fn.coalesce(eb.fn.sum<string>('size'), sql<string>`0`).as('bytes'), eb.fn.min('created_at').as('oldest')])
    .where('uploader_id', '=', uploaderId)
    .where('created_at', '>', sql<Date>`now() - interval '1 day'`)
    .executeTakeFirst();
  return { bytes: Number(row?.bytes ?? 0), oldest: row?.oldest ? new Date(row.oldest as unknown as string) : null };
}

export async function findAttachments(db: Kysely<MessagesDatabase>, ids: string[]): Promise<AttachmentRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('messages.attachments').selectAll().where('id', 'in', ids).execute();
}
