import { currentTraceparent } from '@chat/shared/telemetry';
import type pg from 'pg';
import { type MessageDraft, OUTBOX_CHANNEL } from './messages-repository.js';
import type { MessageRow } from './schema.js';

type Queryable = Pick<pg.Pool, 'query'>;

/** A send waiting for its batch: resolves with the stored row, or undefined when its key already existed. */
export interface QueuedSend {
  draft: MessageDraft;
  encodeEvent: (row: MessageRow) => string;
  traceparent: string | null;
  resolve(row: MessageRow | undefined): void;
  reject(error: unknown): void;
}

/**
 * The seq an event is encoded with before the database hands out the real one. As a JSON key and
 * value (`"seq":` with unescaped quotes) it can only be our own field, never text inside a string.
 */
export const SEQ_PLACEHOLDER = Number.MAX_SAFE_INTEGER;
const PLACEHOLDER_TEXT = `"seq":${SEQ_PLACEHOLDER}`;

/** Prepared by name once per connection: planning this statement cost more than running it. */
const STORE_BATCH = {
  name: 'messages.store_send_batch',
  text: `with input as (
      select * from json_to_recordset($1::json) as t(
        ord int, id uuid, room_id uuid, sender_id text, sender_name text, client_msg_id text, kind text,
        body text, mentions text[], reply_to uuid, created_at timestamptz, event text, trace_context text)
    ),
    fresh as (
      select i.* from input i
      where not exists (
        select 1 from messages.messages m where m.sender_id = i.sender_id and m.client_msg_id = i.client_msg_id)
    ),
    ranges as (
      insert into messages.room_sequences as s (room_id, last_seq)
      select room_id, count(*) from fresh group by room_id order by room_id
      on conflict (room_id) do update set last_seq = s.last_seq + excluded.last_seq
      returning room_id, last_seq
    ),
    numbered as (
      select f.*, r.last_seq - count(*) over (partition by f.room_id) + row_number() over (partition by f.room_id order by f.ord) as seq
      from fresh f join ranges r using (room_id)
    ),
    inserted as (
      insert into messages.messages
        (id, room_id, seq, sender_id, sender_name, client_msg_id, kind, body, mentions, reply_to, attachments, created_at)
      select id, room_id, seq, sender_id, sender_name, client_msg_id, kind, body, mentions, reply_to, '[]', created_at
      from numbered
      returning id, seq
    ),
    events as (
      insert into messages.room_events (room_id, seq, type, event, trace_context)
      select room_id, seq, 'message.created', replace(event, $2, '"seq":' || seq), trace_context
      from numbered order by room_id, seq
      returning id, room_id
    ),
    outboxed as (
      insert into messages.outbox (event_id, room_id) select id, room_id from events
    )
    select id, seq, (select pg_notify($3, '')) is null as notified from inserted`,
};

const UNIQUE_VIOLATION = '23505';
const MAX_ATTEMPTS = 5;

/**
 * Stores a batch of plain sends (no attachments) in one statement, so one round trip and one WAL
 * flush: keys that already exist are left out before any seq is taken, seq ranges are taken per
 * room in room-id order (concurrent batches never deadlock), and each event is written with its
 * seq filled into the frame encoded beforehand. If another transaction commits one of the keys
 * meanwhile, the unique violation undoes the whole statement and the batch is tried again, so no
 * seq is ever skipped.
 */
export async function storeSendBatch(pool: Queryable, batch: QueuedSend[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      const stored = await insertBatch(pool, batch);
      for (const send of batch) send.resolve(stored.get(send));
      return;
    } catch (error) {
      if (isUniqueViolation(error) && attempt < MAX_ATTEMPTS) continue;
      for (const send of batch) send.reject(error);
      return;
    }
  }
}

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === UNIQUE_VIOLATION;
}

async function insertBatch(pool: Queryable, batch: QueuedSend[]): Promise<Map<QueuedSend, MessageRow | undefined>> {
  const result = new Map<QueuedSend, MessageRow | undefined>();
  // The same key twice in one batch: the first one stands for both.
  const byKey = new Map<string, QueuedSend>();
  const createdAt = new Date();
  const rows: Array<Record<string, unknown>> = [];
  const pending = new Map<string, { send: QueuedSend; row: MessageRow }>();
  for (const send of batch) {
    const key = `${send.draft.sender_id}\u0000${send.draft.client_msg_id}`;
    if (byKey.has(key)) continue;
    byKey.set(key, send);
    const row: MessageRow = { ...send.draft, seq: SEQ_PLACEHOLDER, created_at: createdAt, edited_at: null, deleted_at: null };
    pending.set(send.draft.id, { send, row });
    rows.push({
      ord: rows.length,
      id: send.draft.id,
      room_id: send.draft.room_id,
      sender_id: send.draft.sender_id,
      sender_name: send.draft.sender_name,
      client_msg_id: send.draft.client_msg_id,
      kind: send.draft.kind,
      body: send.draft.body,
      mentions: send.draft.mentions,
      reply_to: send.draft.reply_to,
      created_at: createdAt.toISOString(),
      event: send.encodeEvent(row),
      trace_context: send.traceparent,
    });
  }
  const stored = await pool.query<{ id: string; seq: string }>({
    ...STORE_BATCH,
    values: [JSON.stringify(rows), PLACEHOLDER_TEXT, OUTBOX_CHANNEL],
  });
  for (const { id, seq } of stored.rows) {
    const entry = pending.get(id);
    if (entry) result.set(entry.send, { ...entry.row, seq: Number(seq) });
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
    private readonly pool: Queryable,
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
      void storeSendBatch(this.pool, batch).finally(() => {
        this.inFlight--;
        this.drain();
      });
    }
  }
}
