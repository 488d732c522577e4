import { generateKeyPairSync } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.js';
import { FakeApns, FakeFcm, FakeWebhook, type RecordedPush } from '../support/fake-push.js';
import { api } from '../support/http.js';
import { TestSocket } from '../support/socket-client.js';
import { mintToken, type StackProcess, TestStack } from '../support/test-stack.js';

/**
 * Pushes of urgent messages and re-notification of acknowledgement requests (DESIGN 10.2): urgent
 * goes alone and past mute and notify levels, with the providers' urgent markers; a message that
 * asks for acknowledgement is pushed again to those who have not, online or not, until they do or
 * URGENT_RENOTIFY_MAX rounds were made, and the rounds survive a kill -9 of the notifier.
 */
const webhook = new FakeWebhook();
const apns = new FakeApns();
const fcm = new FakeFcm();
const apnsKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const fcmKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
let stack: TestStack;
let notifierEnv: Record<string, string>;
const rest = () => stack.gateway().httpUrl;
const boss = mintToken('up-boss', { name: 'Boss' });
const notifier = () => stack.processes.filter((p) => p.name === 'notifier-worker').at(-1) as StackProcess;

beforeAll(async () => {
  await Promise.all([webhook.start(), apns.start(), fcm.start()]);
  notifierEnv = {
    // A long window: an urgent push that went out while a normal one waits shows it was not held.
    NOTIFY_COALESCE_MS: '2000',
    NOTIFY_BACKOFF_MS: '100',
    NOTIFY_JOB_LOCK_MS: '2000',
    NOTIFY_EVENT_ACK_WAIT_MS: '2000',
    URGENT_RENOTIFY_MS: '5000',
    URGENT_RENOTIFY_MAX: '3',
    NOTIFY_WEBHOOK_URL: webhook.url,
    NOTIFY_WEBHOOK_SECRET: 'urgent-pushes-secret-0123456789',
    APNS_URL: apns.url,
    APNS_KEY_ID: 'KEY123',
    APNS_TEAM_ID: 'TEAM123',
    APNS_PRIVATE_KEY: apnsKey,
    APNS_TOPIC: 'com.example.chat',
    FCM_URL: fcm.url,
    FCM_TOKEN_URL: `${fcm.url}/token`,
    FCM_PROJECT_ID: 'chat-test',
    FCM_CLIENT_EMAIL: 'push@chat-test.iam.example',
    FCM_PRIVATE_KEY: fcmKey,
  };
  stack = new TestStack({ gateways: 1, notifier: notifierEnv });
  await stack.start();
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await Promise.all([webhook.stop(), apns.stop(), fcm.stop()]);
});

let counter = 0;
/** A member with a webhook device (and the token to act as them). */
async function member(label: string) {
  counter++;
  const id = `up-${label}-${counter}`;
  const token = mintToken(id, { name: `${label} ${counter}` });
  const device = `up-device-${label}-${counter}`;
  expect((await api(rest(), 'PUT', `/v1/devices/${device}`, { token, body: { platform: 'webhook' } })).status).toBe(201);
  return { id, token, device };
}

async function group(memberIds: string[]): Promise<string> {
  const created = await api(rest(), 'POST', '/v1/rooms', {
    token: boss,
    body: { kind: 'group', title: 'Night shift', member_ids: memberIds },
  });
  expect(created.status).toBe(201);
  return created.body.id as string;
}

async function say(roomId: string, body: string, extra: Record<string, unknown> = {}) {
  const sent = await api(rest(), 'POST', `/v1/rooms/${roomId}/messages`, {
    token: boss,
    body: { client_msg_id: `${body}-${Math.random()}`, body, ...extra },
  });
  expect(sent.status).toBe(201);
  return sent.body as { id: string; seq: number };
}

const webhookFor = (device: string, messageId: string) => (p: RecordedPush) =>
  p.body.device_token === device && (p.body.message_ids as string[] | undefined)?.includes(messageId) === true;
const reminderOf = (p: RecordedPush) => (p.body.reminder as number | undefined) ?? 0;

describe('urgent pushes', { timeout: 90_000 }, () => {
  it('go out alone, past mute and notify none, marked urgent for the webhook, APNs and FCM', async () => {
    const guard = await member('guard');
    const roomId = await group([guard.id]);
    const settings = await api(rest(), 'PATCH', `/v1/rooms/${roomId}/membership`, {
      token: guard.token,
      body: { muted_until: '2099-01-01T00:00:00Z', notify: 'none' },
    });
    expect(settings.status).toBe(200);
    for (const [token, platform] of [
      [`up-apns-${guard.id}`, 'apns'],
      [`up-fcm-${guard.id}`, 'fcm'],
    ]) {
      expect((await api(rest(), 'PUT', `/v1/devices/${token}`, { token: guard.token, body: { platform } })).status).toBe(201);
    }
    const quiet = await say(roomId, 'shift change at 6');
    const urgent = await say(roomId, 'The guest in 12 is locked out', { priority: 'urgent' });
    const [push] = await webhook.waitFor(webhookFor(guard.device, urgent.id), 1, 30_000);
    expect(push?.body).toMatchObject({
      message_ids: [urgent.id],
      count: 1,
      priority: 'urgent',
      body: 'Boss: The guest in 12 is locked out',
    });
    const [onApns] = await apns.waitFor((p) => p.path === `/3/device/up-apns-${guard.id}`, 1, 30_000);
    expect(onApns?.headers).toMatchObject({ 'apns-push-type': 'alert', 'apns-priority': '10' });
    expect(onApns?.body).toMatchObject({ aps: { 'interruption-level': 'time-sensitive' }, message_ids: [urgent.id] });
    const [onFcm] = await fcm.waitFor((p) => (p.body.message as { token?: string }).token === `up-fcm-${guard.id}`, 1, 30_000);
    expect(onFcm?.body).toMatchObject({ message: { android: { priority: 'HIGH' }, data: { priority: 'urgent', message_ids: urgent.id } } });
    // The muted member never had the plain message due: it was decided (in order) before the urgent one.
    expect(webhook.matching(webhookFor(guard.device, quiet.id))).toEqual([]);
  });

  it('never coalesce with plain messages waiting in the window', async () => {
    const porter = await member('porter');
    const roomId = await group([porter.id]);
    const plain = await say(roomId, 'towels in 14');
    const urgent = await say(roomId, 'water leak in 3', { priority: 'urgent' });
    const [first] = await webhook.waitFor(webhookFor(porter.device, urgent.id), 1, 30_000);
    expect(first?.body).toMatchObject({ message_ids: [urgent.id], priority: 'urgent' });
    // The plain message arrives in a push of its own (sent with the urgent one's job or after its window).
    const [second] = await webhook.waitFor(webhookFor(porter.device, plain.id), 1, 30_000);
    expect(second?.body.message_ids).toEqual([plain.id]);
    expect(second?.body.priority).toBeUndefined();
  });
});

describe('re-notification of acknowledgement requests', { timeout: 120_000 }, () => {
  it('reminds those who have not acknowledged, online or not, until URGENT_RENOTIFY_MAX; an acknowledgement stops it', async () => {
    const [bob, carol] = [await member('bob'), await member('carol')];
    const roomId = await group([bob.id, carol.id]);
    // Carol has a socket open: no first push, but reminders all the same.
    const carolSocket = await TestSocket.connect(stack.gateway().wsUrl, carol.token);
    await carolSocket.ack({ type: 'subscribe', room_id: roomId });
    const sent = await say(roomId, 'Fire alarm test at 10, confirm please', { ack_requested: true });
    const [firstToBob] = await webhook.waitFor(webhookFor(bob.device, sent.id), 1, 30_000);
    expect(reminderOf(firstToBob as RecordedPush)).toBe(0);
    const acked = await api(rest(), 'POST', `/v1/rooms/${roomId}/messages/${sent.id}/acknowledgement`, { token: bob.token });
    expect(acked.status).toBe(200);
    const toCarol = await webhook.waitFor(webhookFor(carol.device, sent.id), 3, 60_000);
    expect(toCarol.map(reminderOf)).toEqual([1, 2, 3]);
    expect(toCarol[0]?.body).toMatchObject({ message_ids: [sent.id], body: expect.stringContaining('Fire alarm test') });
    // Bob acknowledged right after his first push: at most a round already under way reached him.
    const toBob = webhook.matching(webhookFor(bob.device, sent.id)).map(reminderOf);
    expect(toBob.filter((r) => r > 1)).toEqual([]);
    const list = await api<{ items: Array<{ user_id: string }>; pending: string[] }>(
      rest(),
      'GET',
      `/v1/rooms/${roomId}/messages/${sent.id}/acknowledgements`,
      { token: boss },
    );
    expect(list.body).toMatchObject({ items: [{ user_id: bob.id }], pending: [carol.id] });
    await carolSocket.close();
  });

  it('stops for everyone once all have acknowledged: the ledger closes the schedule at its next round', async () => {
    const dana = await member('dana');
    const roomId = await group([dana.id]);
    const sent = await say(roomId, 'Check the boiler', { ack_requested: true, priority: 'urgent' });
    const [first] = await webhook.waitFor(webhookFor(dana.device, sent.id), 1, 30_000);
    expect(first?.body).toMatchObject({ priority: 'urgent' });
    await api(rest(), 'POST', `/v1/rooms/${roomId}/messages/${sent.id}/acknowledgement`, { token: dana.token });
    const db = new pg.Client({ connectionString: stack.databaseUrl });
    await db.connect();
    try {
      const schedule = async () =>
        (
          await db.query<{ rounds_done: number; finished: boolean }>(
            'select rounds_done, finished_at is not null as finished from notify.renotify where message_id = $1',
            [sent.id],
          )
        ).rows[0];
      await eventually(async () => expect(await schedule()).toMatchObject({ finished: true }), 30_000);
      const closed = (await schedule()) as { rounds_done: number };
      // Only a round already under way when Dana acknowledged can have reached her.
      expect(closed.rounds_done).toBeLessThanOrEqual(1);
      expect(
        webhook
          .matching(webhookFor(dana.device, sent.id))
          .map(reminderOf)
          .filter((r) => r > closed.rounds_done),
      ).toEqual([]);
    } finally {
      await db.end();
    }
  });

  it('keeps its rounds through a kill -9 of the notifier: each round reaches each device once', async () => {
    const [erin, frank] = [await member('erin'), await member('frank')];
    const roomId = await group([erin.id, frank.id]);
    const sent = await say(roomId, 'Evacuation drill: acknowledge', { ack_requested: true });
    await webhook.waitFor(webhookFor(erin.device, sent.id), 1, 30_000);
    // Hold the answer to Erin's first reminder: the notifier dies with that delivery in hand.
    webhook.script(erin.device, { status: 200, delayMs: 3000 });
    await webhook.waitFor((p) => webhookFor(erin.device, sent.id)(p) && reminderOf(p) === 1, 1, 60_000);
    await notifier().stop('SIGKILL');
    await stack.startService('notifier-worker', notifierEnv);
    for (const device of [erin.device, frank.device]) {
      await webhook.waitFor((p) => webhookFor(device, sent.id)(p) && reminderOf(p) === 3, 1, 90_000);
      const pushes = webhook.matching(webhookFor(device, sent.id));
      // Per round one delivery id: a repeat after the crash carries the id of the first attempt.
      const idsByRound = new Map<number, Set<string>>();
      for (const push of pushes) {
        const ids = idsByRound.get(reminderOf(push)) ?? new Set<string>();
        ids.add(push.headers['webhook-id'] ?? '');
        idsByRound.set(reminderOf(push), ids);
      }
      expect([...idsByRound.keys()].sort()).toEqual([0, 1, 2, 3]);
      for (const ids of idsByRound.values()) expect(ids.size).toBe(1);
    }
  });
});
