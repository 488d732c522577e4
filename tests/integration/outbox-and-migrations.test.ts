import { randomUUID } from 'node:crypto';
import { migrateSchema, openDatabase } from '@chat/shared/db';
import { createLogger } from '@chat/shared/logging';
import { ensureRoomEventStream, streams } from '@chat/shared/nats';
import { AckPolicy, connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { insertMessageWithEvent } from '../../messages-service/src/db/messages-repository.js';
import { messagesMigrations } from '../../messages-service/src/db/migrations/index.js';
import type { MessagesDatabase } from '../../messages-service/src/db/schema.js';
import { OutboxRelay } from '../../messages-service/src/outbox/relay.js';
import { roomsMigrations } from '../../rooms-service/src/db/migrations/index.js';
import { encodeCreated, plainDraft } from '../support/message-drafts.js';
import { createScratchDatabase, type ScratchDatabase } from '../support/scratch-database.js';

const infra = inject('infra');
const namespace = `t${randomUUID().slice(0, 8)}`;
const logger = createLogger({ service: 'test', version: '0', level: 'silent', pretty: false });
let database: ScratchDatabase;
let databaseUrl: string;
let nc: NatsConnection;

beforeAll(async () => {
  database = await createScratchDatabase(infra.adminDatabaseUrl, 'chat_outbox');
  databaseUrl = database.url;
  nc = await connect({ servers: infra.natsUrl });
  await ensureRoomEventStream(await nc.jetstreamManager(), namespace);
});

afterAll(async () => {
  await (await nc.jetstreamManager()).streams.delete(streams.roomEvents(namespace)).catch(() => false);
  await nc.close();
  await database.drop();
});

describe('migrations', () => {
  it('are safe when several replicas start at once', async () => {
    const replicas = Array.from({ length: 4 }, () =>
      openDatabase<MessagesDatabase>(databaseUrl, { poolMax: 2, applicationName: 'test', logger }),
    );
    await Promise.all(
      replicas.flatMap((r) => [
        migrateSchema(r.db, 'messages', messagesMigrations, logger),
        migrateSchema(r.db, 'rooms', roomsMigrations, logger),
      ]),
    );
    const applied = await replicas[0]?.pool.query<{ schema: string; name: string }>(
      `(select 'messages' as schema, name from messages.kysely_migration order by name) union all (select 'rooms', name from rooms.kysely_migration order by name)`,
    );
    expect(applied?.rows).toEqual([
      ...Object.keys(messagesMigrations).map((name) => ({ schema: 'messages', name })),
      ...Object.keys(roomsMigrations).map((name) => ({ schema: 'rooms', name })),
    ]);
    await Promise.all(replicas.map((r) => r.close()));
  });
});

describe('outbox relay', () => {
  it('publishes events committed while no relay ran, in order, and a re-publish is de-duplicated', async () => {
    const database = openDatabase<MessagesDatabase>(databaseUrl, { poolMax: 2, applicationName: 'test', logger });
    await migrateSchema(database.db, 'messages', messagesMigrations, logger);
    const roomId = randomUUID();
    // Commits with no relay running: the state a crash between commit and publish leaves behind.
    for (let i = 1; i <= 3; i++) {
      await insertMessageWithEvent(database.db, plainDraft(roomId, 'u1', `c${i}`, `m${i}`), encodeCreated);
    }
    const runRelayUntilPublished = async (expected: number) => {
      let published = 0;
      let allPublished!: () => void;
      const done = new Promise<void>((resolve) => {
        allPublished = resolve;
      });
      const relay = new OutboxRelay(nc.jetstream(), {
        databaseUrl,
        namespace,
        batchSize: 100,
        pollMs: 50,
        logger,
        onPublished: (count) => {
          published += count;
          if (published >= expected) allPublished();
        },
      });
      relay.start();
      await done;
      await relay.stop();
      const { rows } = await database.pool.query('select count(*)::int as n from messages.outbox');
      expect(rows[0].n).toBe(0);
    };
    await runRelayUntilPublished(3);
    // Simulate a relay that published but died before marking: everything goes out again.
    await database.pool.query('insert into messages.outbox (event_id, room_id) select id, room_id from messages.room_events');
    await runRelayUntilPublished(3);

    const jsm = await nc.jetstreamManager();
    const info = await jsm.streams.info(streams.roomEvents(namespace));
    expect(info.state.messages).toBe(3);
    await jsm.consumers.add(streams.roomEvents(namespace), { durable_name: 'check', ack_policy: AckPolicy.None });
    const consumer = await nc.jetstream().consumers.get(streams.roomEvents(namespace), 'check');
    const batch = await consumer.fetch({ max_messages: 3, expires: 2000 });
    const seqs: number[] = [];
    for await (const message of batch) seqs.push((message.json() as { seq: number }).seq);
    expect(seqs).toEqual([1, 2, 3]);
    await database.close();
  });

  it('publishes an event whose transaction took a lower id but committed after a later one was published', async () => {
    const database = openDatabase<MessagesDatabase>(databaseUrl, { poolMax: 4, applicationName: 'test', logger });
    await migrateSchema(database.db, 'messages', messagesMigrations, logger);
    const [slowRoom, fastRoom] = [randomUUID(), randomUUID()];
    const published: string[] = [];
    const seen = new Map<string, () => void>();
    const publishedRoom = (roomId: string) =>
      new Promise<void>((resolve) => {
        if (published.includes(roomId)) resolve();
        else seen.set(roomId, resolve);
      });
    const sub = nc.subscribe(`${namespace}.room.*.event`, {
      callback: (_error, message) => {
        const roomId = (message.json() as { room_id: string }).room_id;
        published.push(roomId);
        seen.get(roomId)?.();
      },
    });
    const relay = new OutboxRelay(nc.jetstream(), { databaseUrl, namespace, batchSize: 100, pollMs: 50, logger });
    relay.start();
    // The slow transaction takes its event id first and holds it uncommitted ...
    const slow = await database.pool.connect();
    await slow.query('begin');
    await slow.query(
      `with e as (insert into messages.room_events (room_id, seq, type, event) values ($1, 1, 'message.created', '{"room_id":"${slowRoom}","seq":1}') returning id, room_id)
       insert into messages.outbox (event_id, room_id) select id, room_id from e`,
      [slowRoom],
    );
    // ... while a later id commits and is published, moving the relay's read position past it.
    await insertMessageWithEvent(database.db, plainDraft(fastRoom, 'u2', 'fast'), encodeCreated);
    await publishedRoom(fastRoom);
    await slow.query('commit');
    slow.release();
    await publishedRoom(slowRoom);
    expect(published).toEqual([fastRoom, slowRoom]);
    await relay.stop();
    sub.unsubscribe();
    await database.close();
  });
});
