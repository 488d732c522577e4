import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.js';
import { api } from '../support/http.js';
import { TestSocket } from '../support/socket-client.js';
import { mintToken, TestStack } from '../support/test-stack.js';

const stack = new TestStack({ gateways: 2, env: { PRESENCE_TTL_MS: '1500', TYPING_THROTTLE_MS: '60000' } });
const rest = (i = 0) => stack.gateway(i).httpUrl;
const ws = (i = 0) => stack.gateway(i).wsUrl;

beforeAll(() => stack.start());
afterAll(() => stack.stop());

async function group(owner: string, members: string[]): Promise<string> {
  const created = await api(rest(), 'POST', '/v1/rooms', {
    token: owner,
    body: { kind: 'group', title: 'Front desk', member_ids: members },
  });
  return created.body.id as string;
}

async function send(token: string, roomId: string, key: string, gateway = 0) {
  const sent = await api(rest(gateway), 'POST', `/v1/rooms/${roomId}/messages`, { token, body: { client_msg_id: key, body: key } });
  expect(sent.status).toBe(201);
  return sent.body as { id: string; seq: number };
}

type Unread = { total: number; rooms: Array<{ room_id: string; unread_count: number }> };

describe('read state and unread counts', () => {
  it("counts others' messages above my cursor, moves the cursor forward only, and tells the room", async () => {
    const alice = mintToken('r-alice', { name: 'Alice' });
    const bob = mintToken('r-bob', { name: 'Bob' });
    const roomId = await group(alice, ['r-bob']);
    await send(alice, roomId, 'mine'); // my own messages are never unread
    const second = await send(bob, roomId, 'b1', 1);
    await send(bob, roomId, 'b2', 1);
    await send(bob, roomId, 'b3', 0);

    const unread = await eventually(async () => {
      const answer = await api<Unread>(rest(), 'GET', '/v1/me/unread', { token: alice });
      expect(answer.body.total).toBe(3);
      return answer.body;
    });
    expect(unread.rooms).toEqual([{ room_id: roomId, unread_count: 3 }]);
    expect((await api(rest(1), 'GET', `/v1/rooms/${roomId}`, { token: alice })).body).toMatchObject({
      me: { unread_count: 3, last_read_seq: 0 },
    });

    const aliceSocket = await TestSocket.connect(ws(0), alice);
    const bobSocket = await TestSocket.connect(ws(1), bob);
    await aliceSocket.ack({ type: 'subscribe', room_id: roomId });
    await bobSocket.ack({ type: 'subscribe', room_id: roomId });
    expect(await aliceSocket.ack({ type: 'read', room_id: roomId, seq: second.seq })).toEqual({
      room_id: roomId,
      last_read_seq: 2,
      unread_count: 2,
    });
    expect(await bobSocket.next((f) => f.type === 'read')).toMatchObject({ room_id: roomId, user_id: 'r-alice', seq: 2 });
    // Never backwards: an older seq leaves the cursor where it is.
    expect(await aliceSocket.ack({ type: 'read', room_id: roomId, seq: 1 })).toEqual({
      room_id: roomId,
      last_read_seq: 2,
      unread_count: 2,
    });
    const beyond = await aliceSocket.request({ type: 'read', room_id: roomId, seq: 99 });
    expect(beyond).toMatchObject({ type: 'error', code: 'invalid' });

    // Receipts derive from cursors: alice has read bob's seq-2 message; the sender is never listed.
    const receipts = await api<{ items: Array<{ user_id: string }> }>(rest(), 'GET', `/v1/rooms/${roomId}/messages/${second.id}/receipts`, {
      token: bob,
    });
    expect(receipts.body.items.map((r) => r.user_id)).toEqual(['r-alice']);

    const done = await api(rest(1), 'POST', `/v1/rooms/${roomId}/read`, { token: alice, body: { seq: 4 } });
    expect(done.body).toEqual({ room_id: roomId, last_read_seq: 4, unread_count: 0 });
    expect((await api<Unread>(rest(), 'GET', '/v1/me/unread', { token: alice })).body).toEqual({ total: 0, rooms: [] });
    await Promise.all([aliceSocket.close(), bobSocket.close()]);
  });

  it('does not count what was said before a member joined', async () => {
    const owner = mintToken('j-owner');
    const roomId = await group(owner, []);
    await send(owner, roomId, 'before-1');
    await send(owner, roomId, 'before-2');
    await eventually(async () => {
      expect((await api(rest(), 'GET', `/v1/rooms/${roomId}`, { token: owner })).body).toMatchObject({ last_seq: 2 });
    });
    await api(rest(), 'POST', `/v1/rooms/${roomId}/members`, { token: owner, body: { member_ids: ['j-late'] } });
    const late = mintToken('j-late');
    expect((await api(rest(), 'GET', `/v1/rooms/${roomId}`, { token: late })).body).toMatchObject({
      me: { last_read_seq: 2, unread_count: 0 },
    });
    await send(owner, roomId, 'after');
    await eventually(async () => {
      expect((await api<Unread>(rest(1), 'GET', '/v1/me/unread', { token: late })).body).toEqual({
        total: 1,
        rooms: [{ room_id: roomId, unread_count: 1 }],
      });
    });
  });

  it('answers receipts only to members', async () => {
    const owner = mintToken('q-owner');
    const roomId = await group(owner, []);
    const message = await send(owner, roomId, 'q');
    const outsider = await api(rest(), 'GET', `/v1/rooms/${roomId}/messages/${message.id}/receipts`, { token: mintToken('q-out') });
    expect(outsider.status).toBe(404);
    const unknown = await api(rest(), 'GET', `/v1/rooms/${roomId}/messages/00000000-0000-4000-8000-000000000000/receipts`, {
      token: owner,
    });
    expect(unknown.status).toBe(404);
  });
});

describe('typing', () => {
  it('reaches the other members on every gateway, never the typist, at most once per throttle window', async () => {
    const alice = mintToken('t-alice', { name: 'Alice' });
    const bob = mintToken('t-bob', { name: 'Bob' });
    const roomId = await group(alice, ['t-bob']);
    const aliceHere = await TestSocket.connect(ws(0), alice);
    const aliceThere = await TestSocket.connect(ws(1), alice);
    const bobSocket = await TestSocket.connect(ws(1), bob);
    for (const socket of [aliceHere, aliceThere, bobSocket]) await socket.ack({ type: 'subscribe', room_id: roomId });

    expect(await aliceHere.ack({ type: 'typing', room_id: roomId })).toEqual({});
    const typing = await bobSocket.next((f) => f.type === 'typing');
    expect(typing).toMatchObject({ room_id: roomId, user_id: 't-alice', name: 'Alice' });
    expect(typing.ttl_ms).toBeGreaterThan(0);
    await aliceHere.ack({ type: 'typing', room_id: roomId }); // inside the window: dropped
    await aliceHere.ack({ type: 'message.send', room_id: roomId, client_msg_id: 'after-typing', body: 'hi' });
    await bobSocket.next((f) => f.type === 'message.created');
    expect(bobSocket.frames.filter((f) => f.type === 'typing')).toHaveLength(1);
    // The typist's other socket shares bob's gateway, which has handled both typing frames by now.
    await aliceThere.next((f) => f.type === 'message.created');
    expect(aliceThere.frames.filter((f) => f.type === 'typing')).toEqual([]);

    const outsider = await TestSocket.connect(ws(0), mintToken('t-out'));
    expect(await outsider.request({ type: 'typing', room_id: roomId })).toMatchObject({ type: 'error', code: 'not_found' });
    await Promise.all([aliceHere.close(), aliceThere.close(), bobSocket.close(), outsider.close()]);
  });
});

describe('presence', () => {
  it('is online while a socket is open on any gateway and announced to shared rooms', async () => {
    const alice = mintToken('p-alice');
    const bob = mintToken('p-bob');
    const roomId = await group(alice, ['p-bob']);
    const aliceSocket = await TestSocket.connect(ws(0), alice);
    const first = await aliceSocket.ack({ type: 'subscribe', room_id: roomId });
    expect(first.online).toEqual(['p-alice']);

    const bobOne = await TestSocket.connect(ws(1), bob);
    expect(await aliceSocket.next((f) => f.type === 'presence')).toMatchObject({ room_id: roomId, user_id: 'p-bob', status: 'online' });
    const bobTwo = await TestSocket.connect(ws(0), bob);
    expect((await bobTwo.ack({ type: 'subscribe', room_id: roomId })).online).toEqual(expect.arrayContaining(['p-alice', 'p-bob']));

    await bobOne.close(); // still connected elsewhere: no offline
    await bobTwo.close();
    expect(await aliceSocket.next((f) => f.type === 'presence')).toMatchObject({ user_id: 'p-bob', status: 'offline' });
    expect(aliceSocket.frames.filter((f) => f.type === 'presence').map((f) => f.status)).toEqual(['online', 'offline']);
    await aliceSocket.close();
  });

  it('announces the users of a gateway that stops gracefully offline before it lets NATS go', async () => {
    const erin = mintToken('p-erin');
    const finn = mintToken('p-finn');
    const roomId = await group(erin, ['p-finn']);
    const leaving = await stack.startGateway();
    const erinSocket = await TestSocket.connect(ws(0), erin);
    await erinSocket.ack({ type: 'subscribe', room_id: roomId });
    const finnSocket = await TestSocket.connect(leaving.wsUrl, finn);
    expect(await erinSocket.next((f) => f.type === 'presence' && f.user_id === 'p-finn')).toMatchObject({ status: 'online' });
    expect(await leaving.process.stop('SIGTERM')).toBe(0);
    await finnSocket.closed;
    expect(await erinSocket.next((f) => f.type === 'presence' && f.user_id === 'p-finn' && f.status === 'offline')).toMatchObject({
      room_id: roomId,
    });
    // Each step of the stop is logged with its duration, in order.
    const steps = leaving.process.lines.filter((line) => line.msg === 'shutdown step done').map((line) => line.step);
    expect(steps).toEqual(expect.arrayContaining(['sockets closed', 'presence settled', 'nats drained']));
    expect(steps.indexOf('presence settled')).toBeLessThan(steps.indexOf('nats drained'));
    await erinSocket.close();
  });

  it('lets the users of a crashed gateway go offline once its claims expire', async () => {
    const carol = mintToken('p-carol');
    const dave = mintToken('p-dave');
    const roomId = await group(carol, ['p-dave']);
    const doomed = await stack.startGateway();
    const daveSocket = await TestSocket.connect(doomed.wsUrl, dave);
    const carolSocket = await TestSocket.connect(ws(0), carol);
    // A gateway records a new socket's presence right after its hello (claims are batched per turn of the loop).
    await eventually(async () => {
      expect((await carolSocket.ack({ type: 'subscribe', room_id: roomId })).online).toEqual(expect.arrayContaining(['p-dave']));
    });
    await doomed.process.stop('SIGKILL');
    await daveSocket.closed;
    await eventually(async () => {
      const again = await carolSocket.ack({ type: 'subscribe', room_id: roomId });
      expect(again.online).toEqual(['p-carol']);
    });
    await carolSocket.close();
  });
});
