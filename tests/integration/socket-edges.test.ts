import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { api } from '../support/http.js';
import { TestSocket } from '../support/socket-client.js';
import { type Gateway, mintToken, TestStack } from '../support/test-stack.js';

// Gateway 0: the send bucket holds 20 (as in production) and refills slowly, so a burst's
// arithmetic is exact; small caps. Gateway 1: tight upgrade limits behind a (pretend) proxy.
const stack = new TestStack({
  env: {
    RATE_LIMIT_SENDS_PER_S: '0.5',
    RATE_LIMIT_SENDS_BURST: '20',
    RATE_LIMIT_CLOSE_AFTER: '30',
    WS_MAX_FRAMES_IN_FLIGHT: '100',
    WS_MAX_ROOMS_PER_SOCKET: '2',
    WS_MAX_SOCKETS_PER_USER: '3',
  },
});
let limited: Gateway;
const rest = () => stack.gateway(0).httpUrl;
const ws = () => stack.gateway(0).wsUrl;

beforeAll(async () => {
  await stack.start();
  limited = await stack.startGateway({
    CLIENT_ADDRESS_HEADER: 'x-forwarded-for',
    RATE_LIMIT_CONNECTS_PER_ADDRESS_PER_S: '0.01',
    RATE_LIMIT_CONNECTS_PER_ADDRESS_BURST: '3',
    RATE_LIMIT_CONNECTS_PER_S: '0.01',
    RATE_LIMIT_CONNECTS_BURST: '2',
  });
});
afterAll(() => stack.stop());

async function room(owner: string, memberIds: string[] = []): Promise<string> {
  const created = await api(rest(), 'POST', '/v1/rooms', { token: owner, body: { kind: 'group', title: 'Edges', member_ids: memberIds } });
  return created.body.id as string;
}

async function storedBodies(token: string, roomId: string): Promise<string[]> {
  const page = await api<{ items: Array<{ client_msg_id: string }> }>(rest(), 'GET', `/v1/rooms/${roomId}/messages?limit=100`, { token });
  return page.body.items.map((m) => m.client_msg_id);
}

/** Resolves with the HTTP status of a refused upgrade, or 101 when it opened. */
function upgradeStatus(url: string, headers: Record<string, string>): Promise<{ status: number; retryAfter?: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    socket.once('open', () => {
      socket.close();
      resolve({ status: 101 });
    });
    socket.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] as string | undefined });
      res.resume();
    });
    socket.once('error', reject);
  });
}

async function assertGatewayServes(gateway: Gateway): Promise<void> {
  expect(gateway.process.child.exitCode).toBeNull();
  const probe = await TestSocket.connect(gateway.wsUrl, mintToken(`probe-${Math.random()}`));
  expect(await probe.request({ type: 'ping' })).toMatchObject({ type: 'ack' });
  await probe.close();
}

describe('socket edges', () => {
  it('keeps serving when sockets close or reset while their requests are in flight; what was done stands once', async () => {
    const token = mintToken('e-closer');
    const roomId = await room(token);
    for (let round = 0; round < 6; round++) {
      const socket = await TestSocket.connect(ws(), token);
      for (let i = 0; i < 15; i++)
        socket.send({ type: 'message.send', id: `${round}-${i}`, room_id: roomId, client_msg_id: `c${round}-${i}`, body: 'x' });
      if (round % 2 === 0) socket.ws.terminate();
      else socket.ws.close();
      await socket.closed;
    }
    await assertGatewayServes(stack.gateway(0));
    const stored = await storedBodies(token, roomId);
    expect(new Set(stored).size).toBe(stored.length);
  });

  it('answers a 60-frame burst frame by frame, 20 acks then rate_limited with retry_after_ms, and keeps the socket open', async () => {
    const token = mintToken('e-burst');
    const roomId = await room(token);
    const socket = await TestSocket.connect(ws(), token);
    const answers = Promise.all(
      Array.from({ length: 60 }, (_, i) => socket.next((f) => (f.type === 'ack' || f.type === 'error') && f.id === `b${i}`)),
    );
    for (let i = 0; i < 60; i++) socket.send({ type: 'message.send', id: `b${i}`, room_id: roomId, client_msg_id: `b${i}`, body: 'x' });
    const frames = await answers;
    expect(frames.filter((f) => f.type === 'ack')).toHaveLength(20);
    const refused = frames.filter((f) => f.type === 'error');
    expect(refused).toHaveLength(40);
    for (const frame of refused) {
      expect(frame.code).toBe('rate_limited');
      expect(frame.retry_after_ms).toBeGreaterThan(0);
    }
    expect(await socket.request({ type: 'ping' })).toMatchObject({ type: 'ack' });
    expect(await storedBodies(token, roomId)).toHaveLength(20);
    await socket.close();
  });

  it('closes with 4008 a client that keeps sending after its retry_after_ms has passed', async () => {
    const token = mintToken('e-ignorer');
    const roomId = await room(token);
    const socket = await TestSocket.connect(ws(), token);
    const first = await Promise.all(
      Array.from({ length: 21 }, (_, i) => socket.request({ type: 'message.send', room_id: roomId, client_msg_id: `i${i}`, body: 'x' })),
    );
    const told = first.find((f) => f.type === 'error');
    expect(told).toMatchObject({ code: 'rate_limited' });
    await new Promise((resolve) => setTimeout(resolve, Number(told?.retry_after_ms) + 50));
    for (let i = 0; i < 40; i++)
      socket.send({ type: 'message.send', id: `late${i}`, room_id: roomId, client_msg_id: `late${i}`, body: 'x' });
    const closed = await socket.closed;
    expect(closed.code).toBe(4008);
    // One send fitted the refilled bucket; 30 refusals were answered, the 31st closed the socket.
    expect(socket.frames.filter((f) => f.type === 'error' && String(f.id).startsWith('late'))).toHaveLength(30);
  });

  it('refuses requests over the in-flight cap with rate_limited and keeps the socket open', async () => {
    const token = mintToken('e-inflight');
    const roomId = await room(token);
    const socket = await TestSocket.connect(ws(), token);
    const answers = Promise.all(
      Array.from({ length: 300 }, (_, i) => socket.next((f) => (f.type === 'ack' || f.type === 'error') && f.id === `f${i}`)),
    );
    for (let i = 0; i < 300; i++) socket.send({ type: 'read', id: `f${i}`, room_id: roomId, seq: 0 });
    const frames = await answers;
    const overCap = frames.filter((f) => f.type === 'error');
    expect(overCap.length).toBeGreaterThan(0);
    for (const frame of overCap) expect(frame).toMatchObject({ code: 'rate_limited', retry_after_ms: expect.any(Number) });
    expect(String(overCap[0]?.message)).toContain('in flight');
    expect(frames.filter((f) => f.type === 'ack').length).toBeGreaterThanOrEqual(100);
    expect(await socket.request({ type: 'ping' })).toMatchObject({ type: 'ack' });
    await socket.close();
  });

  it('caps rooms per socket (conflict) and sockets per user (4008)', async () => {
    const token = mintToken('e-caps');
    const rooms = [await room(token), await room(token), await room(token)];
    const socket = await TestSocket.connect(ws(), token);
    await socket.ack({ type: 'subscribe', room_id: rooms[0] });
    await socket.ack({ type: 'subscribe', room_id: rooms[1] });
    const third = await socket.request({ type: 'subscribe', room_id: rooms[2] });
    expect(third).toMatchObject({ type: 'error', code: 'conflict' });
    expect(String(third.message)).toContain('maximum of 2 rooms');
    await socket.ack({ type: 'unsubscribe', room_id: rooms[0] });
    await socket.ack({ type: 'subscribe', room_id: rooms[2] });

    const more = [await TestSocket.connect(ws(), token), await TestSocket.connect(ws(), token)];
    const fourth = await TestSocket.open(`${ws()}/v1/ws?token=${encodeURIComponent(token)}`);
    const refused = await fourth.closed;
    expect(refused.code).toBe(4008);
    expect(refused.reason).toContain('too many sockets');
    await more[0]?.close();
    const again = await TestSocket.connect(ws(), token);
    await again.close();
    await Promise.all([socket.close(), more[1]?.close()]);
  });

  it('limits upgrades per client address (from the proxy header) and per user with HTTP 429', async () => {
    const url = (user: string) => `${limited.wsUrl}/v1/ws?token=${encodeURIComponent(mintToken(user))}`;
    const fromA = { 'x-forwarded-for': '203.0.113.9, 10.0.0.1' };
    const statuses = [];
    for (const user of ['e-a1', 'e-a2', 'e-a3', 'e-a4']) statuses.push((await upgradeStatus(url(user), fromA)).status);
    expect(statuses).toEqual([101, 101, 101, 429]);
    const refused = await upgradeStatus(url('e-a5'), fromA);
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    // Another address has its own bucket; one user has at most 2 upgrades, whatever the address.
    const perUser = [];
    for (const address of ['10.0.0.2', '10.0.0.3', '10.0.0.4'])
      perUser.push((await upgradeStatus(url('e-user'), { 'x-forwarded-for': address })).status);
    expect(perUser).toEqual([101, 101, 429]);
    await assertGatewayServes(limited);
  });

  it('closes a socket with 4001 when its token expires', async () => {
    const token = mintToken('e-expiring', { expiresIn: 2 });
    const socket = await TestSocket.connect(ws(), token);
    const closed = await socket.closed;
    expect(closed).toMatchObject({ code: 4001, reason: 'token expired' });
  });

  it('never leaves a member removed during a subscribe attached to the room', async () => {
    const owner = mintToken('e-owner');
    for (let round = 0; round < 10; round++) {
      const memberId = `e-removed-${round}`;
      const member = mintToken(memberId);
      const roomId = await room(owner, [memberId]);
      const watcher = await TestSocket.connect(ws(), owner);
      await watcher.ack({ type: 'subscribe', room_id: roomId });
      const socket = await TestSocket.connect(ws(), member);
      const subscribed = socket.request({ type: 'subscribe', room_id: roomId });
      const removed = api(rest(), 'DELETE', `/v1/rooms/${roomId}/members/${memberId}`, { token: owner });
      await Promise.all([subscribed, removed]);
      expect((await removed).status).toBe(204);
      const after = await api<{ id: string }>(rest(), 'POST', `/v1/rooms/${roomId}/messages`, {
        token: owner,
        body: { client_msg_id: `after-${round}`, body: 'members only' },
      });
      // One publish reaches every attached socket of this gateway: once the owner's socket has the
      // message and the member's socket has answered a later ping, it would have it too.
      await watcher.next((f) => f.type === 'message.created' && (f.message as { id: string }).id === after.body.id);
      await socket.request({ type: 'ping' });
      expect(socket.frames.some((f) => f.type === 'message.created' && (f.message as { id: string }).id === after.body.id)).toBe(false);
      await Promise.all([socket.close(), watcher.close()]);
    }
  });
});
