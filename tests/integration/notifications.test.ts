import { createHmac, generateKeyPairSync, randomUUID } from 'node:crypto';
import { RpcClient } from '@chat/shared/nats';
import { roomsRpc } from '@chat/shared/rpc';
import { connect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servicesClient } from '../../notifier-worker/src/clients/services-client.js';
import { eventually } from '../support/eventually.js';
import { FakeApns, FakeFcm, FakeWebhook, type RecordedPush } from '../support/fake-push.js';
import { api } from '../support/http.js';
import { TestSocket } from '../support/socket-client.js';
import { mintToken, TestStack } from '../support/test-stack.js';

const WEBHOOK_SECRET = 'webhook-secret-for-tests-0123456789';
const webhook = new FakeWebhook();
const apns = new FakeApns();
const fcm = new FakeFcm();
const apnsKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const fcmKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
let stack: TestStack;
let notifierEnv: Record<string, string>;
const rest = () => stack.gateway().httpUrl;
const alice = mintToken('n-alice', { name: 'Alice' });

beforeAll(async () => {
  await Promise.all([webhook.start(), apns.start(), fcm.start()]);
  notifierEnv = {
    NOTIFY_COALESCE_MS: '700',
    NOTIFY_BACKOFF_MS: '100',
    NOTIFY_JOB_LOCK_MS: '2000',
    NOTIFY_EVENT_ACK_WAIT_MS: '2000',
    DEVICES_MAX_PER_USER: '3',
    NOTIFY_WEBHOOK_URL: webhook.url,
    NOTIFY_WEBHOOK_SECRET: WEBHOOK_SECRET,
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
});
afterAll(async () => {
  await stack.stop();
  await Promise.all([webhook.stop(), apns.stop(), fcm.stop()]);
});

let counter = 0;
/** A fresh recipient with a webhook device, and a group room with alice. */
async function recipient(title = 'Cleaning crew') {
  counter++;
  const id = `n-user-${counter}`;
  const token = mintToken(id, { name: `User ${counter}` });
  const device = `device-${counter}`;
  expect((await api(rest(), 'PUT', `/v1/devices/${device}`, { token, body: { platform: 'webhook' } })).status).toBe(201);
  const roomId = (await api(rest(), 'POST', '/v1/rooms', { token: alice, body: { kind: 'group', title, member_ids: [id] } })).body
    .id as string;
  return { id, token, device, roomId };
}

async function say(roomId: string, body: string, extra: Record<string, unknown> = {}) {
  const sent = await api(rest(), 'POST', `/v1/rooms/${roomId}/messages`, {
    token: alice,
    body: { client_msg_id: `${body}-${Math.random()}`, body, ...extra },
  });
  expect(sent.status).toBe(201);
  return sent.body as { id: string; seq: number };
}

const toDevice = (device: string) => (p: RecordedPush) => p.body.device_token === device;

describe('offline push notifications', () => {
  it('coalesces quick messages into one signed push whose badge is the unread total', async () => {
    const bob = await recipient();
    const ids: string[] = [];
    for (let i = 1; i <= 5; i++) ids.push((await say(bob.roomId, `message ${i}`)).id);
    const [push] = await webhook.waitFor(toDevice(bob.device));
    expect(push?.body).toMatchObject({
      type: 'message',
      user_id: bob.id,
      device_token: bob.device,
      room_id: bob.roomId,
      message_ids: ids,
      count: 5,
      title: 'Cleaning crew',
      body: '5 new messages in Cleaning crew',
    });
    const expected = `sha256=${createHmac('sha256', WEBHOOK_SECRET)
      .update(push?.raw ?? '')
      .digest('hex')}`;
    expect(push?.headers['x-chat-signature']).toBe(expected);
    // Standard Webhooks: id.timestamp.body, base64, under webhook-signature; the id is the delivery id.
    const id = push?.headers['webhook-id'] ?? '';
    const timestamp = push?.headers['webhook-timestamp'] ?? '';
    expect(id).toBe(push?.body.delivery_id);
    expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(60);
    expect(push?.headers['webhook-signature']).toBe(
      `v1,${createHmac('sha256', WEBHOOK_SECRET).update(`${id}.${timestamp}.${push?.raw}`).digest('base64')}`,
    );
    const unread = await api<{ total: number }>(rest(), 'GET', '/v1/me/unread', { token: bob.token });
    expect(push?.body.badge).toBe(unread.body.total);
    // A later message is a new push; the five stayed one.
    const later = await say(bob.roomId, 'one more');
    await webhook.waitFor(toDevice(bob.device), 2);
    expect(webhook.matching(toDevice(bob.device)).map((p) => p.body.message_ids)).toEqual([ids, [later.id]]);
    expect(webhook.matching(toDevice(bob.device))[1]?.body).toMatchObject({ count: 1, body: 'Alice: one more', badge: 6 });
  });

  it('sends nothing for a muted room, a mentions-only member not mentioned, or a message read or deleted in the window', async () => {
    const muted = await recipient('Muted');
    await api(rest(), 'PATCH', `/v1/rooms/${muted.roomId}/membership`, {
      token: muted.token,
      body: { muted_until: new Date(Date.now() + 3_600_000).toISOString() },
    });
    await say(muted.roomId, 'you will not hear this');
    // Decisions follow stream order: once a later message's push is out, the muted one was decided.
    const control = await recipient('Control for mute');
    await say(control.roomId, 'control');
    await webhook.waitFor(toDevice(control.device));
    await api(rest(), 'PATCH', `/v1/rooms/${muted.roomId}/membership`, { token: muted.token, body: { muted_until: null } });
    const audible = await say(muted.roomId, 'now you do');
    await webhook.waitFor(toDevice(muted.device));
    expect(webhook.matching(toDevice(muted.device)).map((p) => p.body.message_ids)).toEqual([[audible.id]]);

    const picky = await recipient('Mentions only');
    await api(rest(), 'PATCH', `/v1/rooms/${picky.roomId}/membership`, { token: picky.token, body: { notify: 'mentions' } });
    await say(picky.roomId, 'general chatter');
    const mention = await say(picky.roomId, `@${picky.id} look`, { mentions: [picky.id] });
    await webhook.waitFor(toDevice(picky.device));
    expect(webhook.matching(toDevice(picky.device)).map((p) => p.body.message_ids)).toEqual([[mention.id]]);

    const reader = await recipient('Read elsewhere');
    const read = await say(reader.roomId, 'read on the laptop');
    await api(rest(), 'POST', `/v1/rooms/${reader.roomId}/read`, { token: reader.token, body: { seq: read.seq } });
    const unread = await say(reader.roomId, 'not read yet');
    // The read also sends a silent badge refresh, which may come first.
    await webhook.waitFor((p) => toDevice(reader.device)(p) && p.body.type === 'message');
    expect(webhook.matching((p) => toDevice(reader.device)(p) && p.body.type === 'message').map((p) => p.body.message_ids)).toEqual([
      [unread.id],
    ]);

    const deleted = await recipient('Deleted');
    const oops = await say(deleted.roomId, 'oops wrong room');
    await api(rest(), 'DELETE', `/v1/rooms/${deleted.roomId}/messages/${oops.id}`, { token: alice });
    const fine = await say(deleted.roomId, 'this one is fine');
    await webhook.waitFor(toDevice(deleted.device));
    expect(webhook.matching(toDevice(deleted.device)).map((p) => p.body.message_ids)).toEqual([[fine.id]]);
  });

  it('sends nothing to a user who is online, and pushes again once they are gone', async () => {
    const carol = await recipient('Online');
    const watcher = await TestSocket.connect(stack.gateway().wsUrl, alice);
    await watcher.ack({ type: 'subscribe', room_id: carol.roomId });
    const socket = await TestSocket.connect(stack.gateway().wsUrl, carol.token);
    await watcher.next((f) => f.type === 'presence' && f.user_id === carol.id && f.status === 'online');
    await say(carol.roomId, 'seen live');
    // The notifier decides in stream order: once a later message's push is out, "seen live" was
    // decided while carol was still online.
    const control = await recipient('Control');
    await say(control.roomId, 'control');
    await webhook.waitFor(toDevice(control.device));
    await socket.close();
    await watcher.next((f) => f.type === 'presence' && f.user_id === carol.id && f.status === 'offline');
    const missed = await say(carol.roomId, 'after you left');
    await webhook.waitFor(toDevice(carol.device));
    expect(webhook.matching(toDevice(carol.device)).map((p) => p.body.message_ids)).toEqual([[missed.id]]);
    await watcher.close();
  });

  it('delivers to APNs over HTTP/2 with token auth, and prunes a token APNs calls dead', async () => {
    const dave = mintToken('n-dave', { name: 'Dave' });
    await api(rest(), 'PUT', '/v1/devices/apns-live-token', { token: dave, body: { platform: 'apns' } });
    await api(rest(), 'PUT', '/v1/devices/apns-dead-token', { token: dave, body: { platform: 'apns', app_id: 'com.example.other' } });
    apns.script('apns-dead-token', { status: 410, body: '{"reason":"Unregistered"}' });
    const roomId = (await api(rest(), 'POST', '/v1/rooms', { token: alice, body: { kind: 'direct', user_id: 'n-dave' } })).body
      .id as string;
    await say(roomId, 'are you there?');
    const [live] = await apns.waitFor((p) => p.path === '/3/device/apns-live-token');
    expect(live?.headers).toMatchObject({
      'apns-topic': 'com.example.chat',
      'apns-push-type': 'alert',
      'apns-priority': '10',
      'apns-collapse-id': roomId,
    });
    expect(live?.headers.authorization).toMatch(/^bearer ey/);
    expect(live?.body).toMatchObject({ aps: { alert: { title: 'Alice', body: 'are you there?' }, badge: 1 } });
    const [dead] = await apns.waitFor((p) => p.path === '/3/device/apns-dead-token');
    expect(dead?.headers['apns-topic']).toBe('com.example.other');
    await eventually(async () => {
      expect((await api(rest(), 'DELETE', '/v1/devices/apns-dead-token', { token: dave })).status).toBe(404);
    });
    expect((await api(rest(), 'DELETE', '/v1/devices/apns-live-token', { token: dave })).status).toBe(204);
  });

  it('retries FCM on a 503 with back-off and then delivers, with high priority and a tag per room', async () => {
    const erin = mintToken('n-erin', { name: 'Erin' });
    await api(rest(), 'PUT', '/v1/devices/fcm-token-1', { token: erin, body: { platform: 'fcm' } });
    fcm.script('fcm-token-1', { status: 503, body: '{"error":{"status":"UNAVAILABLE"}}' });
    const roomId = (
      await api(rest(), 'POST', '/v1/rooms', { token: alice, body: { kind: 'group', title: 'Android', member_ids: ['n-erin'] } })
    ).body.id as string;
    await say(roomId, 'ping');
    const attempts = await fcm.waitFor((p) => (p.body.message as { token?: string }).token === 'fcm-token-1', 2);
    const messages = attempts.map((p) => p.body.message as { android: unknown; data: { delivery_id: string } });
    expect(messages[1]).toMatchObject({ android: { priority: 'HIGH', notification: { tag: roomId } } });
    expect(new Set(messages.map((m) => m.data.delivery_id)).size).toBe(1);
    expect(attempts[1]?.headers.authorization).toBe('Bearer fake-access-token');
    expect(fcm.tokenRequests[0]).toContain('grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer');
  });

  it('refuses a token another user holds with 409, and pushes it to its owner only', async () => {
    const frank = mintToken('n-frank');
    const gina = mintToken('n-gina');
    expect((await api(rest(), 'PUT', '/v1/devices/shared-phone', { token: frank, body: { platform: 'webhook' } })).status).toBe(201);
    expect(await api(rest(), 'PUT', '/v1/devices/shared-phone', { token: gina, body: { platform: 'webhook' } })).toMatchObject({
      status: 409,
      body: { code: 'conflict' },
    });
    const toGina = (await api(rest(), 'POST', '/v1/rooms', { token: alice, body: { kind: 'direct', user_id: 'n-gina' } })).body
      .id as string;
    const toFrank = (await api(rest(), 'POST', '/v1/rooms', { token: alice, body: { kind: 'direct', user_id: 'n-frank' } })).body
      .id as string;
    await say(toGina, 'for gina');
    const franks = await say(toFrank, 'for frank');
    await webhook.waitFor((p) => p.body.device_token === 'shared-phone');
    // Gina's message was decided first; had it gone to the phone, it would be there already.
    expect(webhook.matching((p) => p.body.device_token === 'shared-phone').map((p) => [p.body.user_id, p.body.message_ids])).toEqual([
      ['n-frank', [franks.id]],
    ]);
    // Once its owner lets it go, the token can be registered by someone else.
    expect((await api(rest(), 'DELETE', '/v1/devices/shared-phone', { token: frank })).status).toBe(204);
    expect((await api(rest(), 'PUT', '/v1/devices/shared-phone', { token: gina, body: { platform: 'webhook' } })).status).toBe(201);
  });

  it('keeps at most DEVICES_MAX_PER_USER devices per user, dropping the oldest', async () => {
    const kim = mintToken('n-kim');
    for (let i = 1; i <= 4; i++) {
      expect((await api(rest(), 'PUT', `/v1/devices/kim-${i}`, { token: kim, body: { platform: 'webhook' } })).status).toBe(201);
    }
    // The limit is 3 in this stack: kim-1 went when kim-4 came.
    expect((await api(rest(), 'DELETE', '/v1/devices/kim-1', { token: kim })).status).toBe(404);
    for (const device of ['kim-2', 'kim-3', 'kim-4']) {
      expect((await api(rest(), 'DELETE', `/v1/devices/${device}`, { token: kim })).status).toBe(204);
    }
  });

  it('delivers once per device when the worker is killed while a push waits, and keeps one delivery id when killed mid-request', async () => {
    const hana = await recipient('Restarts');
    const notifier = stack.processes.find((p) => p.name === 'notifier-worker');
    const first = await say(hana.roomId, 'sent while the worker dies');
    await notifier?.stop('SIGKILL');
    await stack.startService('notifier-worker', notifierEnv);
    await webhook.waitFor(toDevice(hana.device));
    expect(webhook.matching(toDevice(hana.device)).map((p) => p.body.message_ids)).toEqual([[first.id]]);

    // Now kill it while the provider is still answering: the retry carries the same delivery id.
    webhook.script(hana.device, { status: 200, delayMs: 1500 });
    const second = await say(hana.roomId, 'in flight');
    await webhook.waitFor(toDevice(hana.device), 2);
    const running = stack.processes.filter((p) => p.name === 'notifier-worker').at(-1);
    await running?.stop('SIGKILL');
    await stack.startService('notifier-worker', notifierEnv);
    const pushes = await webhook.waitFor(
      (p) => toDevice(hana.device)(p) && (p.body.message_ids as string[]).includes(second.id),
      2,
      20_000,
    );
    expect(new Set(pushes.map((p) => p.headers['x-chat-delivery-id'])).size).toBe(1);
    expect(new Set(pushes.map((p) => p.headers['webhook-id'])).size).toBe(1);
    expect(pushes.map((p) => p.body.message_ids)).toEqual([[second.id], [second.id]]);
  });

  it('refreshes the badge silently when the user reads elsewhere', async () => {
    const ivan = await recipient('Badge');
    const message = await say(ivan.roomId, 'unread for now');
    await webhook.waitFor((p) => toDevice(ivan.device)(p) && p.body.type === 'message');
    await api(rest(), 'POST', `/v1/rooms/${ivan.roomId}/read`, { token: ivan.token, body: { seq: message.seq } });
    const [badge] = await webhook.waitFor((p) => toDevice(ivan.device)(p) && p.body.type === 'badge');
    expect(badge?.body).toMatchObject({ type: 'badge', user_id: ivan.id, badge: 0 });
  });
});

describe('device registry input', () => {
  it.each([
    ['an unknown platform', 'ok-token', { platform: 'sms' }],
    ['an oversize token', 'x'.repeat(4097), { platform: 'webhook' }],
    ['a token with spaces', 'has%20space', { platform: 'webhook' }],
    ['a malformed app id', 'ok-token', { platform: 'apns', app_id: 'not a bundle id!' }],
  ])('rejects %s with invalid', async (_, token, body) => {
    const response = await api(rest(), 'PUT', `/v1/devices/${token}`, { token: alice, body });
    expect(response).toMatchObject({ status: 400, body: { code: 'invalid' } });
  });

  it('pushes in a group of 10,000 members to one whose settings come on a later page of push facts', async () => {
    // UUID-long ids: the room's push facts in one answer would be about 1.3 MB, over NATS's 1 MB.
    const others = Array.from({ length: 9998 }, () => randomUUID());
    const last = `${'f'.repeat(8)}-last-${counter++}`; // sorts after every uuid: the last page
    const token = mintToken(last, { name: 'Last' });
    const device = `device-big-${counter}`;
    expect((await api(rest(), 'PUT', `/v1/devices/${device}`, { token, body: { platform: 'webhook' } })).status).toBe(201);
    const created = await api(rest(), 'POST', '/v1/rooms', {
      token: alice,
      body: { kind: 'group', title: 'Everyone', member_ids: [last, ...others.slice(0, 499)] },
    });
    expect(created.status).toBe(201);
    const roomId = created.body.id as string;
    for (let i = 499; i < others.length; i += 500) {
      const added = await api(rest(), 'POST', `/v1/rooms/${roomId}/members`, {
        token: alice,
        body: { member_ids: others.slice(i, i + 500) },
      });
      expect(added.status).toBe(200);
    }
    await say(roomId, 'all hands at nine');
    const [push] = await webhook.waitFor(toDevice(device));
    expect(push?.body).toMatchObject({ type: 'message', room_id: roomId, title: 'Everyone' });

    // The pages themselves: each member once, in no two pages, every page inside NATS's limit.
    const nc = await connect({ servers: stack.natsUrl });
    try {
      const rpc = new RpcClient(nc, stack.namespace);
      const everyone = ['n-alice', last, ...others].sort();
      const paged: string[] = [];
      let after: string | undefined;
      for (let pages = 1; ; pages++) {
        expect(pages).toBeLessThan(50);
        const page = await rpc.call(roomsRpc.pushFacts, { room_id: roomId, paged: true, ...(after ? { after } : {}) });
        expect(JSON.stringify(page).length).toBeLessThan(nc.info?.max_payload ?? 0);
        for (const m of page.members) paged.push(m.user_id);
        if (!page.next_after) break;
        after = page.next_after;
      }
      expect(new Set(paged).size).toBe(paged.length);
      expect([...paged].sort()).toEqual(everyone);
      // The notifier's client: every member, and a list of 4,500 ids asked for in chunks.
      const client = servicesClient(rpc);
      expect((await client.pushFacts(roomId)).members.map((m) => m.user_id).sort()).toEqual(everyone);
      const asked = [...others.slice(0, 4500), 'n-not-a-member'];
      const some = await client.pushFacts(roomId, asked);
      expect(some.members.map((m) => m.user_id).sort()).toEqual(others.slice(0, 4500).sort());
    } finally {
      await nc.close();
    }
  });

  it("answers 404 for removing someone else's device", async () => {
    await api(rest(), 'PUT', '/v1/devices/alices-phone', { token: alice, body: { platform: 'webhook' } });
    expect((await api(rest(), 'DELETE', '/v1/devices/alices-phone', { token: mintToken('n-mallory') })).status).toBe(404);
    expect((await api(rest(), 'DELETE', '/v1/devices/alices-phone', { token: alice })).status).toBe(204);
  });

  it('refuses to start with a malformed webhook URL, naming the variable', async () => {
    const broken = stack.spawn('notifier-worker', { ...notifierEnv, NOTIFY_WEBHOOK_URL: 'not a url' });
    expect(await broken.waitForExit()).toBe(78);
    expect(broken.tail(5)).toContain('NOTIFY_WEBHOOK_URL');
  });
});
