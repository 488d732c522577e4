import { randomUUID } from 'node:crypto';
import { type DatabaseHandle, migrateSchema, openDatabase } from '@chat/shared/db';
import { createLogger } from '@chat/shared/logging';
import { ensureRoomEventStream, streams, subjects } from '@chat/shared/nats';
import { AckPolicy, connect, type JetStreamClient, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { messagesMigrations } from '../../messages-service/src/db/migrations/index.js';
import type { CommittedEvent } from '../../messages-service/src/db/outbox-repository.js';
import type { MessageRow, MessagesDatabase } from '../../messages-service/src/db/schema.js';
import { type QueuedSend, storeSendBatch } from '../../messages-service/src/db/send-batch.js';
import { CommitPublisher } from '../../messages-service/src/outbox/publisher.js';
import { OutboxRelay } from '../../messages-service/src/outbox/relay.js';
import { encodeCreated, plainDraft } from '../support/message-drafts.js';
import { createScratchDatabase, type ScratchDatabase } from '../support/scratch-database.js';

/** Events go to JetStream from the process that committed them; the relay only publishes what a dead or failed writer left. */
const infra = inject('infra');
const namespace = `t${randomUUID().slice(0, 8)}`;
const logger = createLogger({ service: 'test', version: '0', level: 'silent', pretty: false });
let scratch: ScratchDatabase;
let database: DatabaseHandle<MessagesDatabase>;
let nc: NatsConnection;

beforeAll(async () => {
  scratch = await createScratchDatabase(infra.adminDatabaseUrl, 'chat_publish');
  database = openDatabase<MessagesDatabase>(scratch.url, { poolMax: 4, applicationName: 'test', logger });
  await migrateSchema(database.db, 'messages', messagesMigrations, logger);
  nc = await connect({ servers: infra.natsUrl });
  await ensureRoomEventStream(await nc.jetstreamManager(), namespace);
});

afterAll(async () => {
  await (await nc.jetstreamManager()).streams.delete(streams.roomEvents(namespace)).catch(() => false);
  await nc.close();
  await database.close();
  await scratch.drop();
});

function sends(roomId: string, count: number, prefix: string): { batch: QueuedSend[]; stored: Promise<Array<MessageRow | undefined>> } {
  const results: Array<Promise<MessageRow | undefined>> = [];
  const batch: QueuedSend[] = [];
  for (let i = 1; i <= count; i++) {
    let send!: QueuedSend;
    results.push(
      new Promise((resolve, reject) => {
        send = { draft: plainDraft(roomId, 'u1', `${prefix}${i}`), encodeEvent: encodeCreated, traceparent: null, resolve, reject };
      }),
    );
    batch.push(send);
  }
  return { batch, stored: Promise.all(results) };
}

/** The seqs JetStream holds for a room, in stream order. */
async function streamSeqs(roomId: string, expected: number): Promise<number[]> {
  const jsm = await nc.jetstreamManager();
  const name = `check_${randomUUID().slice(0, 8)}`;
  await jsm.consumers.add(streams.roomEvents(namespace), {
    durable_name: name,
    ack_policy: AckPolicy.None,
    filter_subject: subjects.roomEvents(namespace, roomId),
  });
  const consumer = await nc.jetstream().consumers.get(streams.roomEvents(namespace), name);
  const seqs: number[] = [];
  // One message more than expected is asked for: a duplicate would show up.
  for await (const message of await consumer.fetch({ max_messages: expected + 1, expires: 1000 })) {
    seqs.push((message.json() as { seq: number }).seq);
  }
  await jsm.consumers.delete(streams.roomEvents(namespace), name);
  return seqs;
}

async function outboxRows(roomId: string): Promise<number> {
  const { rows } = await database.pool.query<{ n: number }>('select count(*)::int as n from messages.outbox where room_id = $1', [roomId]);
  return rows[0]?.n ?? 0;
}

function relayCounting(onCount: (total: number) => void): OutboxRelay {
  let total = 0;
  return new OutboxRelay(nc.jetstream(), {
    databaseUrl: scratch.url,
    namespace,
    batchSize: 100,
    pollMs: 50,
    logger,
    onPublished: (count) => {
      total += count;
      onCount(total);
    },
  });
}

describe('publish after commit', () => {
  it('publishes a batch right after its commit and clears its outbox rows; the relay publishes none of them', async () => {
    const roomId = randomUUID();
    let relayPublished = 0;
    const relay = relayCounting((total) => {
      relayPublished = total;
    });
    relay.start();
    const publisher = new CommitPublisher(nc.jetstream(), database.pool, { namespace, clearMs: 20, logger });
    const handed: CommittedEvent[] = [];
    const { batch, stored } = sends(roomId, 3, 'a');
    await storeSendBatch(database.pool, batch, {
      relayGraceMs: 60_000,
      onCommitted: (events) => {
        handed.push(...events);
        publisher.publish(events);
      },
    });
    expect((await stored).map((r) => r?.seq)).toEqual([1, 2, 3]);
    // The events handed over are byte for byte what the log holds.
    const log = await database.pool.query<{ event: string }>('select event from messages.room_events where room_id = $1 order by seq', [
      roomId,
    ]);
    expect(handed.map((e) => e.event)).toEqual(log.rows.map((r) => r.event));
    await publisher.stop();
    expect(await outboxRows(roomId)).toBe(0);
    await relay.stop();
    expect(relayPublished).toBe(0);
    expect(await streamSeqs(roomId, 3)).toEqual([1, 2, 3]);
  });

  it('after a crash between commit and publish, the relay publishes the events once the grace period has passed, once', async () => {
    const roomId = randomUUID();
    // Committed, then the writer "dies": nothing publishes them.
    const { batch, stored } = sends(roomId, 3, 'b');
    await storeSendBatch(database.pool, batch, { relayGraceMs: 300, onCommitted: () => undefined });
    expect((await stored).map((r) => r?.seq)).toEqual([1, 2, 3]);
    expect(await outboxRows(roomId)).toBe(3);
    let done!: () => void;
    const allPublished = new Promise<void>((resolve) => {
      done = resolve;
    });
    const relay = relayCounting((total) => {
      if (total >= 3) done();
    });
    relay.start();
    await allPublished;
    await relay.stop();
    expect(await outboxRows(roomId)).toBe(0);
    expect(await streamSeqs(roomId, 3)).toEqual([1, 2, 3]);
  });

  it('leaves events JetStream refused to the relay, which publishes them in order', async () => {
    const roomId = randomUUID();
    const refusing = { publish: () => Promise.reject(new Error('nats unavailable')) } as unknown as JetStreamClient;
    const publisher = new CommitPublisher(refusing, database.pool, { namespace, clearMs: 20, logger });
    const { batch } = sends(roomId, 2, 'c');
    await storeSendBatch(database.pool, batch, { relayGraceMs: 300, onCommitted: (events) => publisher.publish(events) });
    await publisher.stop();
    expect(await outboxRows(roomId)).toBe(2);
    let done!: () => void;
    const allPublished = new Promise<void>((resolve) => {
      done = resolve;
    });
    const relay = relayCounting((total) => {
      if (total >= 2) done();
    });
    relay.start();
    await allPublished;
    await relay.stop();
    expect(await streamSeqs(roomId, 2)).toEqual([1, 2]);
  });

  it('fails a whole batch when its statement fails: nothing stored, nothing handed over to publish', async () => {
    const roomId = randomUUID();
    const handed: CommittedEvent[] = [];
    const { batch, stored } = sends(roomId, 2, 'd');
    // A room id that is no uuid makes the statement fail after the batch was formed.
    const broken = batch.map((s) => ({ ...s, draft: { ...s.draft, room_id: 'not-a-uuid' } }));
    await storeSendBatch(database.pool, broken, { relayGraceMs: 300, onCommitted: (events) => handed.push(...events) });
    await expect(stored).rejects.toThrow();
    expect(handed).toEqual([]);
    const { rows } = await database.pool.query<{ n: number }>(
      "select count(*)::int as n from messages.messages where client_msg_id like 'd%'",
    );
    expect(rows[0]?.n).toBe(0);
  });
});
