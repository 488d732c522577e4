import { randomUUID } from 'node:crypto';
import type { Message } from '@chat/shared';
import { type DatabaseHandle, idsPresent, migrateSchema, openDatabase } from '@chat/shared/db';
import { createLogger } from '@chat/shared/logging';
import { PresenceRegistry } from '@chat/shared/presence';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { messagesMigrations } from '../../messages-service/src/db/migrations/index.js';
import type { MessageRow, MessagesDatabase } from '../../messages-service/src/db/schema.js';
import { openSendPool, type QueuedSend, storeSendBatch } from '../../messages-service/src/db/send-batch.js';
import { ThreadRootRefused } from '../../messages-service/src/domain/message-rules.js';
import { roomsMigrations } from '../../rooms-service/src/db/migrations/index.js';
import { applyMessageEvents, type ProjectedEvent } from '../../rooms-service/src/db/projection-repository.js';
import { insertGroupRoom } from '../../rooms-service/src/db/rooms-repository.js';
import type { RoomsDatabase } from '../../rooms-service/src/db/schema.js';
import { encodeCreated, plainDraft } from '../support/message-drafts.js';
import { createScratchDatabase, type ScratchDatabase } from '../support/scratch-database.js';

/** The batched write paths, against the real Postgres and Redis: what one batch must get right. */
const infra = inject('infra');
const namespace = `t${randomUUID().slice(0, 8)}`;
const logger = createLogger({ service: 'test', version: '0', level: 'silent', pretty: false });
let messagesDb: DatabaseHandle<MessagesDatabase>;
/** As the service stores sends: on connections that plan the batch statement once. */
let sendPool: pg.Pool;
let roomsDb: DatabaseHandle<RoomsDatabase>;
let redis: Redis;
let scratch: ScratchDatabase;

beforeAll(async () => {
  scratch = await createScratchDatabase(infra.adminDatabaseUrl, 'chat_batching');
  messagesDb = openDatabase<MessagesDatabase>(scratch.url, { poolMax: 4, applicationName: 'test', logger });
  roomsDb = openDatabase<RoomsDatabase>(scratch.url, { poolMax: 2, applicationName: 'test', logger });
  await migrateSchema(messagesDb.db, 'messages', messagesMigrations, logger);
  await migrateSchema(roomsDb.db, 'rooms', roomsMigrations, logger);
  sendPool = openSendPool(scratch.url, { max: 2, logger });
  redis = new Redis(infra.redisUrl, { keyPrefix: '' });
});

afterAll(async () => {
  await sendPool.end();
  await messagesDb.close();
  await roomsDb.close();
  const keys = await redis.keys(`${namespace}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
  await scratch.drop();
});

function queued(roomId: string, sender: string, key: string, body: string) {
  const draft = plainDraft(roomId, sender, key, body);
  let settle: (row: MessageRow | undefined) => void = () => undefined;
  const stored = new Promise<MessageRow | undefined>((resolve) => {
    settle = resolve;
  });
  const send: QueuedSend = {
    draft,
    encodeEvent: encodeCreated,
    traceparent: null,
    resolve: settle,
    reject: (error) => {
      throw error;
    },
  };
  return { send, stored };
}

describe('a batch of sends stored in one statement', () => {
  it('numbers each room gaplessly, fills the seq into the event, lists it in the outbox, and skips keys that exist', async () => {
    const [roomA, roomB] = [randomUUID(), randomUUID()];
    const first = queued(roomA, 'ann', 'k1', 'first in A');
    await storeSendBatch(sendPool, [first.send]);
    expect((await first.stored)?.seq).toBe(1);

    const batch = [
      queued(roomA, 'ann', 'k1', 'a retry of the first'), // the key exists: nothing stored
      queued(roomA, 'bob', 'k1', 'second in A, "seq":1 in its text'),
      queued(roomB, 'ann', 'k2', 'first in B'),
      queued(roomA, 'cat', 'k3', 'third in A'),
      queued(roomA, 'cat', 'k3', 'the same key twice in one batch'),
    ];
    await storeSendBatch(
      sendPool,
      batch.map((b) => b.send),
    );
    const rows = await Promise.all(batch.map((b) => b.stored));
    expect(rows.map((r) => r && [r.room_id === roomA ? 'A' : 'B', r.seq, r.body])).toEqual([
      undefined,
      ['A', 2, 'second in A, "seq":1 in its text'],
      ['B', 1, 'first in B'],
      ['A', 3, 'third in A'],
      undefined,
    ]);

    const events = await messagesDb.pool.query<{ room_id: string; seq: string; event: string; queued: boolean }>(
      `select e.room_id, e.seq, e.event, exists(select 1 from messages.outbox o where o.event_id = e.id) as queued
         from messages.room_events e order by e.id`,
    );
    for (const row of events.rows) {
      const event = JSON.parse(row.event) as { seq: number; message: Message };
      expect(event.seq).toBe(Number(row.seq));
      expect(event.message.seq).toBe(Number(row.seq));
      expect(row.queued).toBe(true);
    }
    const bodies = events.rows.map((r) => (JSON.parse(r.event) as { message: Message }).message.body);
    expect(bodies).toContain('second in A, "seq":1 in its text');
    const sequences = await messagesDb.pool.query<{ room_id: string; last_seq: string }>(
      'select room_id, last_seq from messages.room_sequences',
    );
    expect(Object.fromEntries(sequences.rows.map((r) => [r.room_id, Number(r.last_seq)]))).toEqual({ [roomA]: 3, [roomB]: 1 });
  });

  it('takes each key once when two batches race for it, and skips no seq', async () => {
    const roomId = randomUUID();
    const racers = Array.from({ length: 6 }, (_, i) => queued(roomId, 'dan', 'same-key', `racer ${i}`));
    const others = Array.from({ length: 6 }, (_, i) => queued(roomId, 'eve', `own-${i}`, `other ${i}`));
    await Promise.all(
      [0, 1, 2].map((b) =>
        storeSendBatch(sendPool, [racers[b * 2]!.send, others[b * 2]!.send, racers[b * 2 + 1]!.send, others[b * 2 + 1]!.send]),
      ),
    );
    const stored = (await Promise.all([...racers, ...others].map((r) => r.stored))).filter((r) => r !== undefined);
    expect(stored.filter((r) => r.sender_id === 'dan')).toHaveLength(1);
    expect(stored.map((r) => r.seq).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });
});

describe('thread replies in a batch (DESIGN 10.5)', () => {
  it('checks each root inside the one statement: valid replies stored, the others refused alone, no seq taken for them', async () => {
    const roomId = randomUUID();
    const root = queued(roomId, 'ann', 'root', 'root');
    await storeSendBatch(sendPool, [root.send]);
    const rootId = (await root.stored)?.id as string;
    const otherRoom = queued(randomUUID(), 'ann', 'root-elsewhere', 'a root in another room');
    await storeSendBatch(sendPool, [otherRoom.send]);
    const otherRoomRootId = (await otherRoom.stored)?.id as string;
    const reply = (key: string, threadRootId: string, rootAfterSeq = 0) => {
      const draft = { ...plainDraft(roomId, 'bob', key), thread_root_id: threadRootId };
      const outcome = new Promise<MessageRow | undefined | Error>((resolve) => {
        sends.push({
          draft,
          encodeEvent: encodeCreated,
          rootAfterSeq,
          traceparent: null,
          resolve,
          reject: (error) => resolve(error as Error),
        });
      });
      return outcome;
    };
    const sends: QueuedSend[] = [];
    const good = reply('r-good', rootId);
    const unknown = reply('r-unknown', randomUUID());
    const elsewhere = reply('r-elsewhere', otherRoomRootId);
    // A member who joined after the root (joined history) cannot reply to it.
    const beforeJoining = reply('r-before-joining', rootId, 1);
    const plain = queued(roomId, 'cat', 'r-plain', 'plain');
    sends.push(plain.send);
    let statements = 0;
    const counting = {
      query: ((...args: Parameters<typeof sendPool.query>) => {
        statements++;
        return (sendPool.query as (...a: unknown[]) => unknown)(...args);
      }) as typeof sendPool.query,
    };
    await storeSendBatch(counting, sends);
    expect(statements).toBe(1);
    expect(await good).toMatchObject({ thread_root_id: rootId, seq: 2 });
    expect(await unknown).toBeInstanceOf(ThreadRootRefused);
    expect(await elsewhere).toBeInstanceOf(ThreadRootRefused);
    expect(await beforeJoining).toBeInstanceOf(ThreadRootRefused);
    expect((await plain.stored)?.seq).toBe(3);
    const goodId = ((await good) as MessageRow).id;

    // A reply cannot be a root.
    const nested: QueuedSend[] = [];
    const refused = new Promise<unknown>((resolve) => {
      nested.push({
        draft: { ...plainDraft(roomId, 'bob', 'r-nested'), thread_root_id: goodId },
        encodeEvent: encodeCreated,
        traceparent: null,
        resolve,
        reject: resolve,
      });
    });
    await storeSendBatch(sendPool, nested);
    expect(await refused).toBeInstanceOf(ThreadRootRefused);
    const [sequence] = (
      await messagesDb.pool.query<{ last_seq: string }>('select last_seq from messages.room_sequences where room_id = $1', [roomId])
    ).rows;
    expect(Number(sequence?.last_seq)).toBe(3);
  });
});

describe('the rooms projection applied in batches', () => {
  const message = (roomId: string, seq: number, changes: Partial<Message> = {}): Message => ({
    id: randomUUID(),
    room_id: roomId,
    seq,
    sender_id: 'ann',
    sender_name: null,
    client_msg_id: `k${seq}`,
    kind: 'text',
    body: `message ${seq}`,
    mentions: [],
    reply_to: null,
    thread_root_id: null,
    attachments: [],
    reactions: [],
    priority: 'normal',
    ack_requested: false,
    acknowledgements: { count: 0 },
    created_at: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
    edited_at: null,
    deleted_at: null,
    ...changes,
  });

  it('counts a message created and deleted in one batch as deleted, tolerates redelivery, and shows the latest state', async () => {
    const { rows } = await roomsDb.pool.query<{ id: string }>(
      `insert into rooms.rooms (kind, title, created_by) values ('group', 't', 'ann') returning id`,
    );
    const roomId = rows[0]?.id as string;
    const one = message(roomId, 1);
    const two = message(roomId, 2);
    const three = message(roomId, 3);
    const created = (m: Message): ProjectedEvent => ({ type: 'message.created', room_id: roomId, seq: m.seq, message: m });
    await applyMessageEvents(roomsDb.db, [created(one), created(two)]);
    const batch: ProjectedEvent[] = [
      created(two), // redelivered
      { type: 'message.deleted', room_id: roomId, seq: 4, message: { ...one, body: '', deleted_at: new Date().toISOString() } },
      created(three),
      { type: 'message.deleted', room_id: roomId, seq: 5, message: { ...three, body: '', deleted_at: new Date().toISOString() } },
      { type: 'message.updated', room_id: roomId, seq: 6, message: { ...two, body: 'edited', edited_at: new Date().toISOString() } },
    ];
    await applyMessageEvents(roomsDb.db, batch);
    await applyMessageEvents(roomsDb.db, batch); // the whole batch again: nothing changes

    const counted = await roomsDb.pool.query<{ seq: string; deleted: boolean }>(
      'select seq, deleted from rooms.counted_messages where room_id = $1 order by seq',
      [roomId],
    );
    expect(counted.rows.map((r) => [Number(r.seq), r.deleted])).toEqual([
      [1, true],
      [2, false],
      [3, true],
    ]);
    const room = await roomsDb.pool.query<{ last_seq: string; last_message_seq: string; last_message: string; last_activity_at: Date }>(
      'select last_seq, last_message_seq, last_message, last_activity_at from rooms.rooms where id = $1',
      [roomId],
    );
    expect(Number(room.rows[0]?.last_seq)).toBe(6);
    expect(Number(room.rows[0]?.last_message_seq)).toBe(3);
    expect(JSON.parse(room.rows[0]?.last_message ?? '{}')).toMatchObject({ seq: 3, deleted_at: expect.any(String) });
  });
});

describe('which of some ids have a row', () => {
  it('tells which of some ids have a row, for text and uuid columns alike, in one statement', async () => {
    const pair = await insertGroupRoom(roomsDb.db, 'cat', 'pair', ['dan']);
    const other = await insertGroupRoom(roomsDb.db, 'dan', 'other', ['eve']);
    const without = await insertGroupRoom(roomsDb.db, 'eve', 'without dan', ['cat']);
    expect(await idsPresent(roomsDb.db, 'rooms.members', 'user_id', ['dan', 'zed', 'eve', 'dan'], ['room_id', pair])).toEqual(
      new Set(['dan']),
    );
    expect(await idsPresent(roomsDb.db, 'rooms.members', 'room_id', [pair, other, without, randomUUID()], ['user_id', 'dan'])).toEqual(
      new Set([pair, other]),
    );
    expect(await idsPresent(roomsDb.db, 'rooms.members', 'user_id', [], ['room_id', pair])).toEqual(new Set());
  });
});

describe('presence changes applied together', () => {
  it('answers, in order, which claims brought a user online and which releases took one offline', async () => {
    const registry = new PresenceRegistry(redis, namespace, 30_000);
    expect(
      await registry.applyChanges(
        [
          { kind: 'claim', userId: 'ann' },
          { kind: 'claim', userId: 'bob' },
          { kind: 'release', userId: 'bob' },
          { kind: 'claim', userId: 'bob' },
        ],
        'gw-1',
      ),
    ).toEqual([true, true, true, true]);
    expect(await registry.applyChanges([{ kind: 'claim', userId: 'ann' }], 'gw-2')).toEqual([false]);
    expect(await registry.applyChanges([{ kind: 'release', userId: 'ann' }], 'gw-1')).toEqual([false]);
    expect(await registry.onlineAmong(['ann', 'bob', 'cat'])).toEqual(['ann', 'bob']);
    expect(
      await registry.applyChanges(
        [
          { kind: 'release', userId: 'ann' },
          { kind: 'release', userId: 'bob' },
        ],
        'gw-2',
      ),
    ).toEqual([true, false]);
    expect(await registry.onlineAmong(['ann', 'bob'])).toEqual(['bob']);
  });
});
