import { openPool } from '@chat/shared/db';
import type { Logger } from '@chat/shared/logging';
import { currentTraceparent, inSpan, SpanKind, tracer } from '@chat/shared/telemetry';
import { type Context, context, type Span, trace } from '@opentelemetry/api';
import type pg from 'pg';
import { ThreadRootRefused } from '../domain/message-rules.js';
import type { MessageDraft } from '../domain/rows.js';
import type { CommittedEvent } from './outbox-repository.js';
import type { MessageRow } from './schema.js';

type Queryable = Pick<pg.Pool, 'query'>;

/** The pool send batches run on: its connections plan the batch statement once (see STORE_BATCH). */
export function openSendPool(url: string, options: { max: number; logger: Pick<Logger, 'warn'> }): pg.Pool {
  return openPool(url, { max: options.max, applicationName: 'messages-service-send', logger: options.logger, preparedPlans: 'once' });
}

/** A send waiting for its batch: resolves with the stored row, or undefined when its key already existed. */
export interface QueuedSend {
  draft: MessageDraft;
  encodeEvent: (row: MessageRow) => string;
  /** A thread root must come after this seq: what a late joiner (joined history) can see. */
  rootAfterSeq?: number;
  /** The seq of the message `reply_to` names (checked by the caller), kept beside the event. */
  replyToSeq?: number | undefined;
  traceparent: string | null;
  /** The send's own trace context (its `process messages.send` span), to link and to parent its store span. */
  context?: Context;
  resolve(row: MessageRow | undefined): void;
  reject(error: unknown): void;
}

/**
 * The seq an event is encoded with before the database hands out the real one. As a JSON key and
 * value (`"seq":` with unescaped quotes) it can only be our own field, never text inside a string.
 */
export const SEQ_PLACEHOLDER = Number.MAX_SAFE_INTEGER;
const PLACEHOLDER_TEXT = `"seq":${SEQ_PLACEHOLDER}`;

/**
 * Prepared by name, and planned once per connection (openSendPool): planning it cost more Postgres
 * CPU than running it (0.32 of 0.57 ms for a batch of one). One plan can serve every batch and any
 * table size because of how it is written: the input is one json parameter, whose rows the planner
 * cannot see, and each lookup in messages.messages is a `lateral (… limit 1)` probe that names
 * only the columns of a unique index (the idempotency key; the thread root by id alone), so it
 * stays a per-row probe and, with table scans off on those connections, an index probe, even in a
 * plan made from statistics that say the table is empty (tests/integration/send-plan.test.ts).
 */
export const STORE_BATCH = {
  name: 'messages.store_send_batch',
  text: `with input as (
      select * from json_to_recordset($1::json) as t(
        ord int, id uuid, room_id uuid, sender_id text, sender_name text, client_msg_id text, kind text,
        body text, mentions text[], reply_to uuid, thread_root_id uuid, root_after_seq bigint, created_at timestamptz, event text,
        trace_context text, reply_to_seq bigint)
    ),
    novel as (
      select i.* from input i
      left join lateral (
        select true as taken from messages.messages m
         where m.sender_id = i.sender_id and m.client_msg_id = i.client_msg_id limit 1
      ) existing on true
      where existing.taken is null
    ),
    fresh as (
      select n.* from novel n
      left join lateral (
        select r.room_id, r.thread_root_id, r.seq from messages.messages r where r.id = n.thread_root_id limit 1
      ) root on true
      where n.thread_root_id is null
         or (root.room_id = n.room_id and root.thread_root_id is null and root.seq > n.root_after_seq)
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
        (id, room_id, seq, sender_id, sender_name, client_msg_id, kind, body, mentions, reply_to, thread_root_id, attachments, created_at)
      select id, room_id, seq, sender_id, sender_name, client_msg_id, kind, body, mentions, reply_to, thread_root_id, '[]', created_at
      from numbered
      returning id, seq
    ),
    events as (
      insert into messages.room_events (room_id, seq, type, event, trace_context, reply_to_seq)
      select room_id, seq, 'message.created', replace(event, $2, '"seq":' || seq), trace_context, reply_to_seq
      from numbered order by room_id, seq
      returning id, room_id, seq
    ),
    outboxed as (
      insert into messages.outbox (event_id, room_id, relay_after)
      select id, room_id, now() + make_interval(secs => $3::float8 / 1000) from events
    )
    select n.id, n.seq, e.id as event_id from numbered n join events e on e.room_id = n.room_id and e.seq = n.seq
    union all
    select v.id, null, null from novel v where not exists (select 1 from fresh f where f.id = v.id)`,
};

const UNIQUE_VIOLATION = '23505';
const MAX_ATTEMPTS = 5;

export interface SendBatchOptions {
  /**
   * Whose job publishing is: 0 leaves it to the relay at once; otherwise `onCommitted` publishes
   * and the relay only takes rows left after this many milliseconds (the writer died).
   */
  relayGraceMs: number;
  /** The batch's events after its commit, in seq order per room. */
  onCommitted?: (events: CommittedEvent[]) => void;
}

/**
 * Stores a batch of plain sends (no attachments) in one statement, so one round trip and one WAL
 * flush: keys that already exist are left out before any seq is taken, seq ranges are taken per
 * room in room-id order (concurrent batches never deadlock), and each event is written with its
 * seq filled into the frame encoded beforehand. If another transaction commits one of the keys
 * meanwhile, the unique violation undoes the whole statement and the batch is tried again, so no
 * seq is ever skipped.
 */
export async function storeSendBatch(pool: Queryable, batch: QueuedSend[], options: SendBatchOptions = { relayGraceMs: 0 }): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      const { result, events } = await insertBatch(pool, batch, options.relayGraceMs);
      // Published before the acks go out, so a sender's own event is on its way when it hears back.
      if (events.length > 0) options.onCommitted?.(events);
      for (const send of batch) {
        const outcome = result.get(send);
        if (outcome instanceof ThreadRootRefused) send.reject(outcome);
        else send.resolve(outcome);
      }
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

async function insertBatch(
  pool: Queryable,
  batch: QueuedSend[],
  relayGraceMs: number,
): Promise<{ result: Map<QueuedSend, MessageRow | ThreadRootRefused | undefined>; events: CommittedEvent[] }> {
  const result = new Map<QueuedSend, MessageRow | ThreadRootRefused | undefined>();
  // The same key twice in one batch: the first one stands for both.
  const byKey = new Map<string, QueuedSend>();
  const createdAt = new Date();
  const rows: Array<Record<string, unknown>> = [];
  const pending = new Map<string, { send: QueuedSend; row: MessageRow; event: string }>();
  for (const send of batch) {
    const key = `${send.draft.sender_id}\u0000${send.draft.client_msg_id}`;
    if (byKey.has(key)) continue;
    byKey.set(key, send);
    // Batched sends are plain ones (normal priority, no acknowledgement request): the columns' defaults.
    const row: MessageRow = { ...send.draft, seq: SEQ_PLACEHOLDER, ack_count: 0, created_at: createdAt, edited_at: null, deleted_at: null };
    const event = send.encodeEvent(row);
    pending.set(send.draft.id, { send, row, event });
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
      thread_root_id: send.draft.thread_root_id,
      root_after_seq: send.rootAfterSeq ?? 0,
      created_at: createdAt.toISOString(),
      event,
      trace_context: send.traceparent,
      reply_to_seq: send.replyToSeq ?? null,
    });
  }
  const stored = await pool.query<{ id: string; seq: string | null; event_id: string | null }>({
    ...STORE_BATCH,
    values: [JSON.stringify(rows), PLACEHOLDER_TEXT, relayGraceMs],
  });
  const events: CommittedEvent[] = [];
  for (const { id, seq, event_id } of stored.rows) {
    const entry = pending.get(id);
    if (!entry) continue;
    if (seq === null || event_id === null) {
      result.set(entry.send, new ThreadRootRefused());
      continue;
    }
    result.set(entry.send, { ...entry.row, seq: Number(seq) });
    events.push({
      id: event_id,
      room_id: entry.row.room_id,
      seq: Number(seq),
      // The same substitution the statement made (the event's seq and its message's).
      event: entry.event.replaceAll(PLACEHOLDER_TEXT, `"seq":${seq}`),
      trace_context: entry.send.traceparent,
      reply_to_seq: entry.send.replyToSeq ?? null,
    });
  }
  // Per room in seq order, as the relay publishes: a gateway then rarely has to wait for a gap.
  events.sort((a, b) => (a.room_id < b.room_id ? -1 : a.room_id > b.room_id ? 1 : a.seq - b.seq));
  // Keys that existed (or repeated within the batch) are answered from the stored message.
  for (const send of batch) if (!result.has(send)) result.set(send, undefined);
  return { result, events };
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
    private readonly options: { maxBatch: number; parallel: number } & Partial<SendBatchOptions>,
  ) {}

  store(
    draft: MessageDraft,
    encodeEvent: (row: MessageRow) => string,
    rootAfterSeq = 0,
    replyToSeq?: number,
  ): Promise<MessageRow | undefined> {
    return new Promise((resolve, reject) => {
      this.queue.push({
        draft,
        encodeEvent,
        rootAfterSeq,
        replyToSeq,
        traceparent: currentTraceparent(),
        context: context.active(),
        resolve,
        reject,
      });
      this.drain();
    });
  }

  private drain(): void {
    while (this.inFlight < this.options.parallel && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.options.maxBatch);
      this.inFlight++;
      const { relayGraceMs = 0, onCommitted } = this.options;
      void traceBatch(batch, (traced) =>
        storeSendBatch(this.pool, traced, onCommitted ? { relayGraceMs, onCommitted } : { relayGraceMs: 0 }),
      ).finally(() => {
        this.inFlight--;
        this.drain();
      });
    }
  }
}

/**
 * A batch serves many traces, so (OpenTelemetry messaging conventions for batches) it gets its
 * own root span, linked to every send's span, and holding the batch's SQL; each send keeps a child
 * span in its own trace, linked back to the batch, from the moment the batch starts until its row
 * is stored.
 */
function traceBatch(batch: QueuedSend[], store: (batch: QueuedSend[]) => Promise<void>): Promise<void> {
  const links = batch.flatMap((send) => {
    const spanContext = send.context && trace.getSpanContext(send.context);
    return spanContext ? [{ context: spanContext }] : [];
  });
  return inSpan(
    'messages.send batch',
    { root: true, links, attributes: { 'messaging.batch.message_count': batch.length, 'db.operation.batch.size': batch.length } },
    (batchSpan) => {
      const traced = batch.map((send) => {
        const span: Span = tracer.startSpan(
          'messages.send store',
          {
            kind: SpanKind.INTERNAL,
            links: [{ context: batchSpan.spanContext() }],
            attributes: { 'chat.room_id': send.draft.room_id, 'messaging.batch.message_count': batch.length },
          },
          send.context,
        );
        return {
          ...send,
          resolve: (row: MessageRow | undefined) => {
            span.end();
            send.resolve(row);
          },
          reject: (error: unknown) => {
            span.recordException(error as Error);
            span.end();
            send.reject(error);
          },
        };
      });
      return store(traced);
    },
  );
}
