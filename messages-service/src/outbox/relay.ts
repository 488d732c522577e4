import type { Logger } from '@chat/shared/logging';
import { subjects, toNatsHeaders } from '@chat/shared/nats';
import { extractTraceContext, injectTraceContext, inSpan, SpanKind } from '@chat/shared/telemetry';
import type { JetStreamClient } from 'nats';
import pg from 'pg';
import { OUTBOX_CHANNEL } from '../db/messages-repository.js';

export interface OutboxRelayOptions {
  databaseUrl: string;
  namespace: string;
  batchSize: number;
  pollMs: number;
  logger: Logger;
  onPublished?: (count: number, oldestAgeMs: number) => void;
}

interface PendingEvent {
  id: string;
  room_id: string;
  seq: number;
  event: string;
  age_ms: number;
  trace_context: string | null;
}

/** Advisory lock key of the relay: one leader per database publishes, so each room stays in order. */
const RELAY_LOCK_KEY = 0x6d7367_6f7574; // "msg" "out"

const encoder = new TextEncoder();
/** How often the relay reads the outbox from its start, for events that committed out of id order. */
const SWEEP_EVERY_MS = 1000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Publishes committed room events listed in the outbox to JetStream, in id order, with
 * `<room>:<seq>` as the de-duplication id, and clears them from the outbox. Every replica runs
 * one; the one holding the advisory lock works, the others wait to take over. A crash between
 * publish and clear only causes a re-publish, which JetStream drops as a duplicate and gateways
 * ignore by seq.
 */
export class OutboxRelay {
  private stopping = false;
  private wake: (() => void) | undefined;
  /** A commit happened since the last read of the outbox: look again before idling. */
  private dirty = false;
  private loop: Promise<void> | undefined;
  private client: pg.Client | undefined;
  private leader = false;

  constructor(
    private readonly js: JetStreamClient,
    private readonly options: OutboxRelayOptions,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  isLeader(): boolean {
    return this.leader;
  }

  /** Called after a local commit: saves the leader a round trip through LISTEN/NOTIFY. */
  nudge(): void {
    this.dirty = true;
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.nudge();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.leadWhileLockHeld();
      } catch (error) {
        if (!this.stopping) this.options.logger.error({ err: error }, 'outbox relay failed; retrying');
      } finally {
        this.leader = false;
        await this.client?.end().catch(() => undefined);
        this.client = undefined;
      }
      if (!this.stopping) await this.idle(1000);
    }
  }

  private async leadWhileLockHeld(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.options.databaseUrl,
      application_name: 'messages-outbox-relay',
      // Its read is prepared by name; plan it for the outbox as it is now (see openDatabase).
      options: '-c plan_cache_mode=force_custom_plan',
    });
    this.client = client;
    client.on('error', (error) => this.options.logger.warn({ err: error }, 'outbox relay connection error'));
    await client.connect();
    while (!this.stopping) {
      const { rows } = await client.query<{ locked: boolean }>('select pg_try_advisory_lock($1) as locked', [RELAY_LOCK_KEY]);
      if (rows[0]?.locked) break;
      await this.idle(2000);
    }
    if (this.stopping) return;
    this.leader = true;
    this.options.logger.info('outbox relay is the leader');
    client.on('notification', () => this.nudge());
    await client.query(`listen ${OUTBOX_CHANNEL}`);
    // A lost mark only causes a re-publish, which JetStream and the gateways drop: no need to wait for its flush.
    await client.query('set synchronous_commit = off');
    let toClear: string[] = [];
    let sweptAt = performance.now();
    let after = 0n;
    while (!this.stopping) {
      // A nudge during a batch must not wait for the poll: commits made meanwhile go out next.
      this.dirty = false;
      const now = performance.now();
      // Reads start after the last id published, so the outbox's deleted rows are not walked again
      // on every read; an event whose transaction took a lower id but committed later is found by
      // a read from the start every SWEEP_EVERY_MS (other rooms' events only: a room's writers
      // take ids in seq order under its lock).
      const sweeping = now - sweptAt >= SWEEP_EVERY_MS;
      const published = await this.publishBatch(client, { toClear, after: sweeping ? 0n : after });
      if (sweeping) sweptAt = now;
      for (const id of published) if (BigInt(id) > after) after = BigInt(id);
      toClear = published;
      if (published.length < this.options.batchSize && !this.dirty) {
        // Cleared before waiting: a subscribe takes a listed event as not yet published.
        toClear = await this.clearPublished(client, toClear);
        await this.idle(this.options.pollMs);
      }
    }
    // Hand over what was committed before stopping, so a rolling restart adds no delivery delay.
    await this.clearPublished(client, await this.publishBatch(client, { toClear, after: 0n }));
  }

  /**
   * Clears `toClear` (published, acknowledged by JetStream) from the outbox and reads the next
   * batch of events with ids above `after`, in one statement, then publishes them. Returns the
   * ids JetStream acknowledged, to be cleared by the next call.
   */
  private async publishBatch(client: pg.Client, read: { toClear: string[]; after: bigint }): Promise<string[]> {
    const { rows } = await client.query<PendingEvent>({
      name: 'outbox.read_next',
      // The batch is picked from the outbox first, then each event looked up by id (lateral): a
      // plain join let the planner walk the whole event log in id order.
      text: `with cleared as (delete from messages.outbox where event_id = any($1::bigint[])),
       next as (
         select event_id, created_at from messages.outbox
          where event_id > $3 and event_id <> all($1::bigint[]) order by event_id limit $2
       )
       select e.id, e.room_id, e.seq, e.event, e.trace_context, (extract(epoch from now() - o.created_at) * 1000)::int as age_ms
         from next o cross join lateral (select * from messages.room_events r where r.id = o.event_id) e
        order by o.event_id`,
      values: [read.toClear, this.options.batchSize, read.after.toString()],
    });
    if (rows.length === 0) return [];
    // Publishes are written to the connection in call order, so each room's events reach NATS in seq order.
    const results = await Promise.allSettled(rows.map((row) => this.publish(row)));
    // Mark only the unbroken prefix that JetStream acknowledged; the rest is retried in order.
    const firstFailure = results.findIndex((r) => r.status === 'rejected');
    const done = firstFailure === -1 ? rows : rows.slice(0, firstFailure);
    if (done.length > 0) this.options.onPublished?.(done.length, rows[0]?.age_ms ?? 0);
    if (firstFailure !== -1) {
      const failure = results[firstFailure] as PromiseRejectedResult;
      this.options.logger.warn({ err: failure.reason, pending: rows.length - done.length }, 'JetStream publish failed; will retry');
      await sleep(500);
    }
    return done.map((r) => r.id);
  }

  private async clearPublished(client: pg.Client, ids: string[]): Promise<string[]> {
    if (ids.length > 0) await client.query('delete from messages.outbox where event_id = any($1::bigint[])', [ids]);
    return [];
  }

  /** One event to JetStream, in a producer span that continues the trace of the request that wrote it. */
  private publish(row: PendingEvent): Promise<unknown> {
    const subject = subjects.roomEvents(this.options.namespace, row.room_id);
    const parent = extractTraceContext(row.trace_context ? { traceparent: row.trace_context } : undefined);
    return inSpan(
      `publish ${subject}`,
      {
        kind: SpanKind.PRODUCER,
        parent,
        attributes: {
          'messaging.system': 'nats',
          'messaging.destination.name': subject,
          'messaging.operation.type': 'publish',
          'chat.room_id': row.room_id,
          'chat.seq': row.seq,
        },
      },
      () =>
        this.js.publish(subject, encoder.encode(row.event), {
          msgID: `${row.room_id}:${row.seq}`,
          headers: toNatsHeaders(injectTraceContext({})),
        }),
    );
  }

  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
    });
  }
}
