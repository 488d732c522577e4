import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually } from '../support/eventually.js';
import { api } from '../support/http.js';
import { type PrivateServer, privateNats, privateRedis } from '../support/private-servers.js';
import { type DuePush, PushReceiver } from '../support/push-receiver.js';
import { mintToken, Stack, type StackProcess } from '../support/stack.js';

/**
 * Pushes through faults (DESIGN 10.1): offline members with webhook devices, messages sent
 * steadily through a kill -9 of the notifier mid-delivery, a Redis restart that loses all its
 * data, and a NATS restart. Every push that was due arrives within 20 s of the fault's end, and
 * no device gets one message under two deliveries.
 */
const receiver = new PushReceiver();
let nats: PrivateServer;
let redis: PrivateServer;
let stack: Stack;
let notifierEnv: Record<string, string>;
const alice = mintToken('pf-alice', { name: 'Alice' });
const rooms: Array<{ id: string; devices: string[] }> = [];
const due: DuePush[] = [];
const rest = () => stack.gateway().httpUrl;
const notifier = () => stack.processes.filter((p) => p.name === 'notifier-worker').at(-1) as StackProcess;

beforeAll(async () => {
  [nats, redis] = await Promise.all([privateNats(), privateRedis(), receiver.start()]);
  notifierEnv = {
    NOTIFY_COALESCE_MS: '1000',
    NOTIFY_BACKOFF_MS: '200',
    NOTIFY_WEBHOOK_URL: receiver.url,
    NOTIFY_WEBHOOK_SECRET: 'push-faults-secret-0123456789',
  };
  stack = new Stack({ ...inject('infra'), natsUrl: nats.url, redisUrl: redis.url }, { gateways: 1, notifier: notifierEnv });
  await stack.start();
  for (let r = 0; r < 3; r++) {
    const members = [1, 2, 3].map((m) => `pf-user-${r}-${m}`);
    const devices: string[] = [];
    for (const member of members) {
      const device = `pf-device-${r}-${member}`;
      const registered = await api(rest(), 'PUT', `/v1/devices/${device}`, { token: mintToken(member), body: { platform: 'webhook' } });
      expect(registered.status).toBe(201);
      devices.push(device);
    }
    const room = await api(rest(), 'POST', '/v1/rooms', {
      token: alice,
      body: { kind: 'group', title: `Faults ${r}`, member_ids: members },
    });
    rooms.push({ id: room.body.id as string, devices });
  }
}, 90_000);

afterAll(async () => {
  await stack?.stop();
  await Promise.all([nats?.dispose(), redis?.dispose(), receiver.stop()]);
});

/** Sends to every room in turn until stopped; each acknowledged message is due on its room's devices. */
function sendSteadily(label: string): { stop(): Promise<void> } {
  let running = true;
  let n = 0;
  const loop = (async () => {
    while (running) {
      const room = rooms[n % rooms.length] as (typeof rooms)[number];
      n++;
      try {
        const sent = await api(rest(), 'POST', `/v1/rooms/${room.id}/messages`, {
          token: alice,
          body: { client_msg_id: `${label}-${n}`, body: `${label} ${n}` },
        });
        if (sent.status === 201) for (const device of room.devices) due.push({ device, messageId: sent.body.id as string });
      } catch {
        // The gateway may be unable to answer during the fault: that message was never acknowledged.
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}

/** Waits (at most 20 s from now: the fault has ended) for every due push; none may be doubled. */
async function everyDuePushArrivesOnce(): Promise<void> {
  const wanted = [...due];
  await receiver.until(
    () => receiver.tally(wanted).missing.length === 0,
    20_000,
    () => `: ${receiver.tally(wanted).missing.length} of ${wanted.length} pushes missing`,
  );
  expect(receiver.tally(wanted)).toEqual({ missing: [], doubled: [] });
}

describe('pushes through faults', { timeout: 60_000 }, () => {
  it('survives a kill -9 of the notifier mid-delivery', async () => {
    receiver.answerAfter(400);
    const sending = sendSteadily('kill');
    await receiver.until(() => receiver.inFlight > 0, 20_000);
    await notifier().stop('SIGKILL');
    await stack.startService('notifier-worker', notifierEnv);
    receiver.answerAfter(0);
    await sending.stop();
    await everyDuePushArrivesOnce();
  });

  it('survives a Redis restart that lost all its data', async () => {
    // Answers held back and a coalescing window of 1 s: deliveries are in hand and coalescing jobs
    // wait in Redis when it dies.
    receiver.answerAfter(400);
    const sending = sendSteadily('redis');
    await receiver.until(() => receiver.inFlight > 0, 20_000);
    await redis.restart({ kill: true });
    receiver.answerAfter(0);
    const atRestart = due.length;
    await eventually(async () => expect(due.length).toBeGreaterThan(atRestart + 3 * 9), 20_000);
    await sending.stop();
    await everyDuePushArrivesOnce();
  });

  it('survives a NATS restart', async () => {
    const before = receiver.requests;
    const sending = sendSteadily('nats');
    await receiver.until(() => receiver.requests > before, 20_000);
    await nats.restart();
    // Sends go on after the restart, so pushes must flow through the recovered consumer too.
    const atRestart = due.length;
    await eventually(async () => expect(due.length).toBeGreaterThan(atRestart + 3 * 9), 20_000);
    await sending.stop();
    await everyDuePushArrivesOnce();
  });
});
