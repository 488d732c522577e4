import { currentTraceparent } from '@chat/shared/telemetry';
import { type Kysely, sql } from 'kysely';
import { type MessageDraft, OUTBOX_CHANNEL } from './messages-repository.js';
import type { MessageRow, MessagesDatabase } from './schema.js';

/** A send waiting for its batch: resolves with the stored row, or undefined when its key already existed. */
export interface QueuedSend {
  draft: MessageDraft;
  encodeEvent: (row: MessageRow) => string;
  traceparent: string | null;
  resolve(row: MessageRow | undefined): void;
  reject(error: unknown): void;
}

/** Thrown inside a batch when a concurrent transaction took one of its idempotency keys. */
class ConcurrentDuplicate extends Error {}

/**
 * Stores a batch of sends (without attachments) in one transaction: one WAL flush for all of them. Seq ranges are
 * taken per room in room-id order (concurrent batches never deadlock), keys that already exist
 * are left out before any seq is taken, and if another transaction inserts one of the keys
 * meanwhile the whole batch rolls back and is tried again, so no seq is ever skipped.
 */
export async function storeSendBatch(db: Kysely<MessagesDatabase>, batch: QueuedSend[]): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      const stored = await db.transaction().execute((trx) => insertBatch(trx, batch));
      for (const send of batch) send.resolve(stored.get(send));
      return;
    } catch (error) {
      if (error instanceof ConcurrentDuplicate && attempt < 5) continue;
      for (const send of batch) send.reject(error);
      return;
    }
  }
}

async function insertBatch(trx: Kysely<MessagesDatabase>, batch: QueuedSend[]): Promise<Map<QueuedSend, MessageRow | undefined>> {
  const result = new Map<QueuedSend, MessageRow | undefined>();
  // The same key twice in one batch: the first one stands for both.
  const byKey = new Map<string, QueuedSend>();
  const fresh: QueuedSend[] = [];
  for (const send of batch) {
    const key = `${send.draft.sender_id}\u0000${send.draft.client_msg_id}`;
    if (byKey.has(key)) continue;
    byKey.set(key, send);
    fresh.push(send);
  }
  const existing = await trx
    .selectFrom('messages.messages')
    .select(['sender_id', 'client_msg_id'])
    .where((eb) =>
      eb.or(fresh.map((s) => eb.and([eb('sender_id', '=', s.draft.sender_id), eb('client_msg_id', '=', s.draft.client_msg_id)]))),
    )
    .execute();
  const taken = new Set(existing.map((e) => `${e.sender_id}\u0000${e.client_msg_id}`));
  const toInsert = fresh.filter((s) => !taken.has(`${s.draft.sender_id}\u0000${s.draft.client_msg_id}`));
  if (toInsert.length > 0) {
    const perRoom = new Map<string, QueuedSend[]>();
    for (const send of toInsert) perRoom.set(send.draft.room_id, [...(perRoom.get(send.draft.room_id) ?? []), send]);
    const rooms = [...perRoom.keys()].sort();
    const ranges = await sql<{ room_id: string; last_seq: number }>`
      insert into messages.room_sequences (room_id, last_seq)
      select room_id, n from unnest(${rooms}::uuid[], ${rooms.map((r) => perRoom.get(r)?.length ?? 0)}::bigint[]) as t(room_id, n)
      on conflict (room_id) do update set last_seq = messages.room_sequences.last_seq + excluded.last_seq
      returning room_id, last_seq`.execute(trx);
    const seqOf = new Map<QueuedSend, number>();
    for (const { room_id: roomId, last_seq: last } of ranges.rows) {
      const sends = perRoom.get(roomId) ?? [];
      sends.forEach((send, i) => {
        seqOf.set(send, Number(last) - sends.length + 1 + i);
      });
    }
    const rows = await trx
      .insertInto('messages.messages')
      .values(toInsert.map((s) => ({ ...s.draft, seq: seqOf.get(s) as number, attachments: JSON.stringify(s.draft.attachments) })))
      .onConflict((oc) => oc.columns(['sender_id', 'client_msg_id']).doNothing())
      .returningAll()
      .execute();
    if (rows.length !== toInsert.length) throw new ConcurrentDuplicate();
    const rowById = new Map(rows.map((r) => [r.id, r]));
    for (const send of toInsert) {
      const row = rowById.get(send.draft.id) as MessageRow;
      result.set(send, row);
    }
    await trx
      .insertInto('messages.room_events')
      .values(
        toInsert.map((s) => {
          const row = result.get(s) as MessageRow;
          return { room_id: row.room_id, seq: row.seq, type: 'message.created', event: s.encodeEvent(row), trace_context: s.traceparent };
        }),
      )
      .execute();
    await sql`select pg_notify(${OUTBOX_CHANNEL}, '')`.execute(trx);
  }
  // Keys that existed (or repeated within the batch) are answered from the stored message.
  for (const send of batch) if (!result.has(send)) result.set(send, undefined);
  return result;
}

/**
 * Collects sends while a batch is being stored: the first send goes out at once, and everything
 * that arrives during a commit goes together in the next one, so batches grow with the load and
 * latency stays low when it is quiet. At most `parallel` batches are in flight.
 */
export class SendBatcher {
  private queue: QueuedSend[] = [];
  private inFlight = 0;

  constructor(
    private readonly db: Kysely<MessagesDatabase>,
    private readonly options: { maxBatch: number; parallel: number },
  ) {}

  store(draft: MessageDraft, encodeEvent: (row: MessageRow) => string): Promise<MessageRow | undefined> {
    return new Promise((resolve, reject) => {
      this.queue.push({ draft, encodeEvent, traceparent: currentTraceparent(), resolve, reject });
      this.drain();
    });
  }

  private drain(): void {
    while (this.inFlight < this.options.parallel && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.options.maxBatch);
      this.inFlight++;
      void storeSendBatch(this.db, batch).finally(() => {
        this.inFlight--;
        this.drain();
      });
    }
  }
}
