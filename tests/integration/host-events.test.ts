import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { streams } from '@chat/shared/nats';
import { connect } from 'nats';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventReceiver, type ReceivedEvent, verifiesAsStandardWebhook } from '../support/event-receiver.js';
import { eventually } from '../support/eventually.js';
import { api } from '../support/http.js';
import { mintToken, type StackProcess, TestStack } from '../support/test-stack.js';

/**
 * DESIGN 10.4: the event webhook, against real processes. A `whsec_` secret, so receivers'
 * usual libraries verify it; short back-off and three attempts, so retries and dead letters
 * happen within a test.
 */
const SECRET = `whsec_${Buffer.from('host-events-test-secret-32-bytes!').toString('base64')}`;
const receiver = new EventReceiver();
const notifierEnv = (): Record<string, string> => ({
  EVENTS_WEBHOOK_URL: receiver.url,
  EVENTS_WEBHOOK_SECRET: SECRET,
  EVENTS_WEBHOOK_MAX_ATTEMPTS: '3',
  EVENTS_WEBHOOK_BACKOFF_MS: '200',
  EVENTS_WEBHOOK_MAX_BACKOFF_MS: '1000',
  EVENTS_WEBHOOK_TIMEOUT_MS: '2000',
  NOTIFY_EVENT_ACK_WAIT_MS: '3000',
});
let stack: TestStack;
const tokens = {
  service: mintToken('host-app', { name: 'Trips', roles: ['service'] }),
  ana: mintToken('ana', { name: 'Ana' }),
  ben: mintToken('ben', { name: 'Ben' }),
};
const rest = () => stack.gateway(0).httpUrl;
const notifier = () => stack.processes.filter((p) => p.name === 'notifier-worker').at(-1) as StackProcess;
const run = promisify(execFile);
const cli = (...args: string[]) =>
  run(process.execPath, [join(import.meta.dirname, '../../notifier-worker/dist/cli/host-events.js'), ...args], {
    env: { PATH: process.env.PATH ?? '', DATABASE_URL: stack.databaseUrl },
  });

beforeAll(async () => {
  await receiver.start();
  stack = new TestStack({ notifier: notifierEnv() });
  await stack.start();
});
afterAll(async () => {
  await stack?.stop();
  await receiver.stop();
});

async function tripRoom(id: string, members: string[]): Promise<string> {
  const answer = await api(rest(), 'PUT', `/v1/contexts/trip/${id}/room`, {
    token: tokens.service,
    body: { title: `Trip ${id}`, member_ids: members },
  });
  expect(answer.status).toBeLessThan(300);
  return answer.body.id as string;
}

const ofRoom = (roomId: string) => receiver.delivered().filter((r) => r.body.room_id === roomId);
const typesOf = (events: ReceivedEvent[]) => events.map((e) => e.body.type);

/** The room's persisted events in order of first delivery: their seqs must increase. */
function firstSeqs(roomId: string): number[] {
  const seen = new Set<string>();
  const seqs: number[] = [];
  for (const event of ofRoom(roomId)) {
    if (event.body.seq === undefined || seen.has(event.webhookId)) continue;
    seen.add(event.webhookId);
    seqs.push(event.body.seq);
  }
  return seqs;
}

describe('event webhook', () => {
  it('delivers each type, signed per Standard Webhooks, persisted events in seq order', async () => {
    const roomId = await tripRoom('T-1', ['ana', 'ben']);
    const sys = await api(rest(), 'POST', '/v1/contexts/trip/T-1/messages', {
      token: tokens.service,
      body: { client_msg_id: 's-1', body: 'Pick-up at 9', ack_requested: true },
    });
    const sent = await api(rest(), 'POST', `/v1/rooms/${roomId}/messages`, {
      token: tokens.ana,
      body: { client_msg_id: 'a-1', body: 'On my way' },
    });
    const messageId = sent.body.id as string;
    await api(rest(), 'PATCH', `/v1/rooms/${roomId}/messages/${messageId}`, { token: tokens.ana, body: { body: 'On my way!' } });
    await api(rest(), 'PUT', `/v1/rooms/${roomId}/messages/${messageId}/reactions/${encodeURIComponent('👍')}`, { token: tokens.ben });
    expect((await api(rest(), 'POST', `/v1/rooms/${roomId}/messages/${sys.body.id}/acknowledgement`, { token: tokens.ben })).status).toBe(
      200,
    );
    await api(rest(), 'DELETE', `/v1/rooms/${roomId}/messages/${messageId}`, { token: tokens.ana });
    await tripRoom('T-1', ['ana']);
    await api(rest(), 'POST', '/v1/contexts/trip/T-1/close', { token: tokens.service });

    const wanted = [
      'member.added',
      'room.updated',
      'message.created',
      'message.updated',
      'reaction.updated',
      'message.acknowledged',
      'message.deleted',
      'member.removed',
      'room.closed',
    ];
    await receiver.until(
      () => wanted.every((type) => typesOf(ofRoom(roomId)).includes(type)) && firstSeqs(roomId).length >= 6,
      60_000,
      () => JSON.stringify(typesOf(ofRoom(roomId))),
    );
    const events = ofRoom(roomId);
    for (const event of events) expect(verifiesAsStandardWebhook(event, SECRET), event.raw).toBe(true);
    expect(firstSeqs(roomId)).toEqual([1, 2, 3, 4, 5, 6]);
    const byType = (type: string) => events.find((e) => e.body.type === type)?.body;
    expect(byType('message.created')).toMatchObject({
      id: `evt_${roomId}_1`,
      seq: 1,
      data: { message: { kind: 'system', sender_id: 'host-app' } },
    });
    expect(byType('reaction.updated')).toMatchObject({
      data: { user_id: 'ben', emoji: '👍', action: 'added', message: { id: messageId } },
    });
    expect(byType('message.acknowledged')).toMatchObject({ data: { user_id: 'ben', message: { id: sys.body.id } } });
    expect(byType('member.removed')).toMatchObject({ data: { user_id: 'ben' } });
    expect(byType('room.closed')).toMatchObject({ data: { room: { id: roomId, closed_at: expect.any(String) } } });
    expect(byType('member.added')?.seq).toBeUndefined();
    for (const event of events) expect(Number.isNaN(Date.parse(event.body.occurred_at))).toBe(false);
    // A tampered body does not verify.
    const first = events[0] as ReceivedEvent;
    expect(verifiesAsStandardWebhook({ ...first, raw: first.raw.replace('"', ' "') }, SECRET)).toBe(false);
  });

  it('retries a 500 with the same webhook-id and body, and keeps the room in order meanwhile', async () => {
    const roomId = await tripRoom('T-2', ['ana']);
    let refused = 0;
    receiver.answer = (event) => (event.room_id === roomId && event.seq === 1 && refused++ < 2 ? 500 : 200);
    for (let i = 1; i <= 3; i++) {
      await api(rest(), 'POST', `/v1/rooms/${roomId}/messages`, { token: tokens.ana, body: { client_msg_id: `t2-${i}`, body: `m${i}` } });
    }
    await receiver.until(
      () => firstSeqs(roomId).length === 3,
      60_000,
      () => JSON.stringify(firstSeqs(roomId)),
    );
    receiver.answer = () => 200;
    const attempts = receiver.received.filter((r) => r.body.room_id === roomId && r.body.seq === 1);
    expect(attempts.map((a) => a.status)).toEqual([500, 500, 200]);
    expect(new Set(attempts.map((a) => a.webhookId))).toEqual(new Set([`evt_${roomId}_1`]));
    expect(new Set(attempts.map((a) => a.raw)).size).toBe(1);
    // seq 2 was not sent before seq 1 got through.
    const firstOfTwo = receiver.received.findIndex((r) => r.body.room_id === roomId && r.body.seq === 2);
    expect(firstOfTwo).toBeGreaterThan(receiver.received.indexOf(attempts[2] as ReceivedEvent));
    expect(firstSeqs(roomId)).toEqual([1, 2, 3]);
  });

  it('keeps an event as a dead letter after the last attempt, and delivers it on replay', async () => {
    const roomId = await tripRoom('T-3', ['ana']);
    receiver.answer = (event) => (event.room_id === roomId && event.seq !== undefined ? 500 : 200);
    await api(rest(), 'POST', `/v1/rooms/${roomId}/messages`, { token: tokens.ana, body: { client_msg_id: 't3-1', body: 'lost?' } });
    const id = `evt_${roomId}_1`;
    await receiver.until(() => receiver.received.filter((r) => r.webhookId === id).length === 3, 60_000);
    let listing = '';
    for (let tries = 0; !listing.includes(id) && tries < 50; tries++) {
      listing = (await cli('list')).stdout;
      if (!listing.includes(id)) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(listing).toContain(id);
    expect(listing).toContain('attempts=3');
    // No fourth attempt by itself.
    expect(receiver.received.filter((r) => r.webhookId === id)).toHaveLength(3);
    receiver.answer = () => 200;
    expect((await cli('replay', id)).stdout).toContain('replayed 1 events');
    await receiver.until(() => receiver.deliveredIds().has(id), 60_000);
    expect((await cli('list')).stdout).not.toContain(id);
  }, 180_000);

  it('loses nothing through a kill -9 of the delivering notifier; repeats carry the same webhook-id', async () => {
    receiver.answer = () => 200;
    receiver.delayMs = 50;
    const rooms = await Promise.all(['K-1', 'K-2', 'K-3'].map((id) => tripRoom(id, ['ana', 'ben'])));
    const perRoom = 15;
    const sending = (async () => {
      for (let i = 1; i <= perRoom; i++) {
        await Promise.all(
          rooms.map((roomId, r) =>
            api(rest(), 'POST', `/v1/rooms/${roomId}/messages`, {
              token: tokens.ana,
              body: { client_msg_id: `k${r}-${i}`, body: `n${i}` },
            }),
          ),
        );
      }
    })();
    const before = receiver.received.length;
    await receiver.until(() => receiver.received.length >= before + 8, 60_000);
    await notifier().stop('SIGKILL');
    await sending;
    await stack.startService('notifier-worker', notifierEnv());
    const expected = rooms.flatMap((roomId) => Array.from({ length: perRoom }, (_, i) => `evt_${roomId}_${i + 1}`));
    await receiver.until(
      () => expected.every((id) => receiver.deliveredIds().has(id)),
      90_000,
      () => `missing ${expected.filter((id) => !receiver.deliveredIds().has(id)).join(' ')}`,
    );
    receiver.delayMs = 0;
    for (const roomId of rooms) {
      expect(firstSeqs(roomId)).toEqual(Array.from({ length: perRoom }, (_, i) => i + 1));
      // Every member.added of the room arrived too (the activity lane).
      expect(ofRoom(roomId).filter((e) => e.body.type === 'member.added').length).toBeGreaterThanOrEqual(2);
    }
    // A repeat is the same event: same id, same body.
    const bodies = new Map<string, string>();
    for (const event of receiver.received) {
      const known = bodies.get(event.webhookId);
      if (known !== undefined) expect(event.raw).toBe(known);
      bodies.set(event.webhookId, event.raw);
    }
  }, 240_000);
});

describe('host events of the rooms service', () => {
  it('loses no membership event through a kill -9 of the rooms service between its commit and JetStream', async () => {
    const roomId = await tripRoom('R-1', ['ana']);
    await receiver.until(() => ofRoom(roomId).some((e) => e.body.type === 'member.added'), 30_000);
    // JetStream refuses the room activity stream from now on (a sealed stream cannot be unsealed):
    // the change below commits, and its host events can only wait in the outbox.
    const nc = await connect({ servers: stack.natsUrl });
    const jsm = await nc.jetstreamManager();
    const activityStream = streams.roomActivity(stack.namespace);
    const { config } = await jsm.streams.info(activityStream);
    const sealed = { ...config, sealed: true };
    await jsm.streams.update(activityStream, sealed);
    try {
      expect(
        (await api(rest(), 'PUT', '/v1/contexts/trip/R-1/room', { token: tokens.service, body: { member_ids: ['ana', 'ben'] } })).status,
      ).toBe(200);
      const rooms = stack.processes.filter((p) => p.name === 'rooms-service' && p.child.exitCode === null);
      for (const process of rooms) await process.stop('SIGKILL');
    } finally {
      await jsm.streams.delete(activityStream);
      await nc.close();
    }
    // A new process makes the stream again and records what the killed one left.
    await stack.startService('rooms-service', { ACTIVITY_OUTBOX_SWEEP_MS: '500' });
    await receiver.until(
      () => ofRoom(roomId).some((e) => e.body.type === 'member.added' && (e.body.data as { user_id?: string }).user_id === 'ben'),
      60_000,
      () => `got ${typesOf(ofRoom(roomId)).join(', ')}`,
    );
    await receiver.until(() => typesOf(ofRoom(roomId)).filter((t) => t === 'room.updated').length >= 2, 30_000);
    // Recorded once: each event under one webhook-id, and the outbox empty once JetStream has them.
    const bens = ofRoom(roomId).filter((e) => e.body.type === 'member.added' && (e.body.data as { user_id?: string }).user_id === 'ben');
    expect(new Set(bens.map((e) => e.webhookId)).size).toBe(1);
    const db = new pg.Client({ connectionString: stack.databaseUrl });
    await db.connect();
    try {
      await eventually(async () => expect((await db.query('select count(*)::int as n from rooms.activity_outbox')).rows[0].n).toBe(0));
    } finally {
      await db.end();
    }
  }, 180_000);
});

describe('event webhook configuration', () => {
  it('refuses to start with a short secret, naming the variable', async () => {
    const proc = stack.spawn('notifier-worker', { EVENTS_WEBHOOK_URL: receiver.url, EVENTS_WEBHOOK_SECRET: 'too-short' });
    expect(await proc.waitForExit()).not.toBe(0);
    expect(proc.tail(20)).toContain('EVENTS_WEBHOOK_SECRET');
  }, 120_000);

  it('sends only the types in EVENTS_WEBHOOK_TYPES', async () => {
    const filtered = new EventReceiver();
    await filtered.start();
    const other = new TestStack({
      notifier: { EVENTS_WEBHOOK_URL: filtered.url, EVENTS_WEBHOOK_SECRET: SECRET, EVENTS_WEBHOOK_TYPES: 'member.added, message.deleted' },
    });
    try {
      await other.start();
      const base = other.gateway(0).httpUrl;
      const room = await api(base, 'PUT', '/v1/contexts/trip/F-1/room', { token: tokens.service, body: { member_ids: ['ana'] } });
      const roomId = room.body.id as string;
      const sent = await api(base, 'POST', `/v1/rooms/${roomId}/messages`, {
        token: tokens.ana,
        body: { client_msg_id: 'f-1', body: 'x' },
      });
      await api(base, 'DELETE', `/v1/rooms/${roomId}/messages/${sent.body.id}`, { token: tokens.ana });
      await filtered.until(() => typesOf(filtered.delivered()).includes('message.deleted'), 60_000);
      // Delivered in seq order, so once message.deleted (seq 2) is in, message.created (seq 1) would have been.
      expect(typesOf(filtered.delivered()).sort()).toEqual(['member.added', 'message.deleted']);
    } finally {
      await other.stop();
      await filtered.stop();
    }
  }, 240_000);
});
