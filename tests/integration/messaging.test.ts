import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../support/http.js';
import { TestSocket } from '../support/socket-client.js';
import { mintToken, TestStack } from '../support/test-stack.js';

const stack = new TestStack({ gateways: 2 });
const alice = mintToken('alice', { name: 'Alice' });
const bob = mintToken('bob', { name: 'Bob' });
const carol = mintToken('carol', { name: 'Carol' });

beforeAll(() => stack.start());
afterAll(() => stack.stop());

async function directRoom(token: string, otherUserId: string): Promise<string> {
  const response = await api(stack.gateway(0).httpUrl, 'POST', '/v1/rooms', { token, body: { kind: 'direct', user_id: otherUserId } });
  expect([200, 201]).toContain(response.status);
  return response.body.id as string;
}

async function roomLastSeq(token: string, roomId: string): Promise<number> {
  const history = await api<{ items: Array<{ seq: number }> }>(stack.gateway(0).httpUrl, 'GET', `/v1/rooms/${roomId}/messages`, { token });
  return history.body.items.at(-1)?.seq ?? 0;
}

describe('one message end to end across two gateway processes', () => {
  it('delivers a message sent on gateway 1 to the other member on gateway 2, with the same id and seq', async () => {
    const roomId = await directRoom(alice, 'bob');
    const aliceSocket = await TestSocket.connect(stack.gateway(0).wsUrl, alice);
    const bobSocket = await TestSocket.connect(stack.gateway(1).wsUrl, bob);
    expect((await aliceSocket.ack({ type: 'subscribe', room_id: roomId })).last_seq).toBe(0);
    expect(await bobSocket.ack({ type: 'subscribe', room_id: roomId })).toMatchObject({ room_id: roomId, last_seq: 0 });

    const ack = await aliceSocket.ack({ type: 'message.send', room_id: roomId, client_msg_id: 'c-1', body: 'Hello Bob' });
    const sent = ack.message as Record<string, unknown>;
    expect(sent).toMatchObject({ room_id: roomId, seq: 1, sender_id: 'alice', sender_name: 'Alice', body: 'Hello Bob', kind: 'text' });

    const received = await bobSocket.next((f) => f.type === 'message.created');
    expect(received).toMatchObject({ type: 'message.created', room_id: roomId, seq: 1 });
    expect(received.message).toMatchObject({ id: sent.id, seq: 1, body: 'Hello Bob' });
    // The sender's own subscribed socket gets the event too (other devices stay in step).
    expect((await aliceSocket.next((f) => f.type === 'message.created')).seq).toBe(1);

    // The same client_msg_id again returns the first message and delivers nothing new.
    const again = await aliceSocket.ack({ type: 'message.send', room_id: roomId, client_msg_id: 'c-1', body: 'Hello Bob' });
    expect(again.message).toEqual(sent);
    await aliceSocket.ack({ type: 'message.send', room_id: roomId, client_msg_id: 'c-2', body: 'second' });
    const next = await bobSocket.next((f) => f.type === 'message.created');
    expect(next).toMatchObject({ seq: 2, message: { body: 'second' } });
    expect(bobSocket.events(roomId).map((e) => e.seq)).toEqual([1, 2]);

    await Promise.all([aliceSocket.close(), bobSocket.close()]);
  });

  it('fans a REST send out to sockets, answers 201 then 200 for the same client_msg_id', async () => {
    const roomId = await directRoom(alice, 'carol');
    const carolSocket = await TestSocket.connect(stack.gateway(1).wsUrl, carol);
    await carolSocket.ack({ type: 'subscribe', room_id: roomId });
    const first = await api(stack.gateway(0).httpUrl, 'POST', `/v1/rooms/${roomId}/messages`, {
      token: alice,
      body: { client_msg_id: 'rest-1', body: '  padded  ' },
    });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ body: 'padded', seq: 1 });
    const event = await carolSocket.next((f) => f.type === 'message.created');
    expect(event.message).toMatchObject({ id: first.body.id });
    const repeat = await api(stack.gateway(1).httpUrl, 'POST', `/v1/rooms/${roomId}/messages`, {
      token: alice,
      body: { client_msg_id: 'rest-1', body: 'different text, same key' },
    });
    expect(repeat.status).toBe(200);
    expect(repeat.body).toEqual(first.body);
    await carolSocket.close();
  });

  it('creates one message when the same client_msg_id races itself', async () => {
    const roomId = await directRoom(bob, 'carol');
    const sends = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        api(stack.gateway(i % 2).httpUrl, 'POST', `/v1/rooms/${roomId}/messages`, {
          token: bob,
          body: { client_msg_id: 'race', body: 'once' },
        }),
      ),
    );
    const ids = new Set(sends.map((s) => s.body.id));
    expect(ids.size).toBe(1);
    expect(sends.filter((s) => s.status === 201)).toHaveLength(1);
    expect(await roomLastSeq(bob, roomId)).toBe(1);
  });

  it('rejects bad sends with clear errors and stores nothing', async () => {
    const roomId = await directRoom(alice, 'dave');
    const socket = await TestSocket.connect(stack.gateway(0).wsUrl, alice);
    const empty = await socket.request({ type: 'message.send', room_id: roomId, client_msg_id: 'e1', body: '   ' });
    expect(empty).toMatchObject({ type: 'error', code: 'invalid' });
    expect(empty.details).toEqual([{ path: 'body', message: 'must not be empty' }]);

    const tooLong = await socket.request({ type: 'message.send', room_id: roomId, client_msg_id: 'e2', body: 'x'.repeat(4001) });
    expect(tooLong).toMatchObject({ type: 'error', code: 'invalid' });
    expect(String(tooLong.message)).toContain('4000');
    const exactly = await socket.request({ type: 'message.send', room_id: roomId, client_msg_id: 'e3', body: '😀'.repeat(4000) });
    expect(exactly.type).toBe('ack');

    const unknownRoom = await socket.request({
      type: 'message.send',
      room_id: '00000000-0000-4000-8000-000000000000',
      client_msg_id: 'e4',
      body: 'hi',
    });
    expect(unknownRoom).toMatchObject({ type: 'error', code: 'not_found' });

    const bobAndHank = await directRoom(bob, 'hank');
    const notMine = await socket.request({ type: 'message.send', room_id: bobAndHank, client_msg_id: 'e5', body: 'hi' });
    expect(notMine).toMatchObject({ type: 'error', code: 'not_found' });
    const subscribeNotMine = await socket.request({ type: 'subscribe', room_id: bobAndHank });
    expect(subscribeNotMine).toMatchObject({ type: 'error', code: 'not_found' });

    const badReply = await socket.request({
      type: 'message.send',
      room_id: roomId,
      client_msg_id: 'e6',
      body: 'hi',
      reply_to: '00000000-0000-4000-8000-000000000000',
    });
    expect(badReply).toMatchObject({ type: 'error', code: 'invalid' });

    // Only the one valid send was stored, and none of the rejected keys were taken.
    expect(await roomLastSeq(alice, roomId)).toBe(1);
    const retry = await socket.request({ type: 'message.send', room_id: roomId, client_msg_id: 'e1', body: 'now valid' });
    expect(retry).toMatchObject({ type: 'ack', data: { message: { seq: 2, body: 'now valid' } } });
    expect(await roomLastSeq(bob, bobAndHank)).toBe(0);
    await socket.close();
  });

  it('reusing a client_msg_id in another room is a conflict', async () => {
    const first = await directRoom(carol, 'erin');
    const second = await directRoom(carol, 'frank');
    const a = await api(stack.gateway(0).httpUrl, 'POST', `/v1/rooms/${first}/messages`, {
      token: carol,
      body: { client_msg_id: 'k', body: 'one' },
    });
    expect(a.status).toBe(201);
    const b = await api(stack.gateway(0).httpUrl, 'POST', `/v1/rooms/${second}/messages`, {
      token: carol,
      body: { client_msg_id: 'k', body: 'one' },
    });
    expect(b).toMatchObject({ status: 409, body: { code: 'conflict' } });
  });

  it('pages history by before_seq and after_seq, oldest first within a page', async () => {
    const roomId = await directRoom(alice, 'gina');
    for (let i = 1; i <= 7; i++) {
      await api(stack.gateway(0).httpUrl, 'POST', `/v1/rooms/${roomId}/messages`, {
        token: alice,
        body: { client_msg_id: `h${i}`, body: `m${i}` },
      });
    }
    type Page = { items: Array<{ seq: number }>; next_cursor: string | null };
    const url = stack.gateway(1).httpUrl;
    const newest = await api<Page>(url, 'GET', `/v1/rooms/${roomId}/messages?limit=3`, { token: alice });
    expect(newest.body.items.map((m) => m.seq)).toEqual([5, 6, 7]);
    expect(newest.body.next_cursor).toBe('5');
    const older = await api<Page>(url, 'GET', `/v1/rooms/${roomId}/messages?limit=3&before_seq=5`, { token: alice });
    expect(older.body.items.map((m) => m.seq)).toEqual([2, 3, 4]);
    const oldest = await api<Page>(url, 'GET', `/v1/rooms/${roomId}/messages?limit=3&before_seq=2`, { token: alice });
    expect(oldest.body).toEqual({ items: [expect.objectContaining({ seq: 1 })], next_cursor: null });
    const newer = await api<Page>(url, 'GET', `/v1/rooms/${roomId}/messages?after_seq=4&limit=2`, { token: alice });
    expect(newer.body.items.map((m) => m.seq)).toEqual([5, 6]);
    expect(newer.body.next_cursor).toBe('6');
    const bad = await api(url, 'GET', `/v1/rooms/${roomId}/messages?limit=500`, { token: alice });
    expect(bad).toMatchObject({ status: 400, body: { code: 'invalid' } });
    const notMember = await api(url, 'GET', `/v1/rooms/${roomId}/messages`, { token: bob });
    expect(notMember).toMatchObject({ status: 404, body: { code: 'not_found' } });
  });

  it('replays what a subscriber missed after since_seq, in order, before live events', async () => {
    const roomId = await directRoom(alice, 'bob');
    const before = await roomLastSeq(alice, roomId);
    for (let i = 1; i <= 3; i++) {
      await api(stack.gateway(0).httpUrl, 'POST', `/v1/rooms/${roomId}/messages`, {
        token: alice,
        body: { client_msg_id: `missed-${i}`, body: `missed ${i}` },
      });
    }
    const bobSocket = await TestSocket.connect(stack.gateway(1).wsUrl, bob);
    const ack = await bobSocket.ack({ type: 'subscribe', room_id: roomId, since_seq: before });
    expect(ack.last_seq).toBe(before + 3);
    await api(stack.gateway(0).httpUrl, 'POST', `/v1/rooms/${roomId}/messages`, {
      token: alice,
      body: { client_msg_id: 'live-1', body: 'live' },
    });
    await bobSocket.next((f) => f.type === 'message.created' && f.seq === before + 4);
    expect(bobSocket.events(roomId).map((e) => e.seq)).toEqual([before + 1, before + 2, before + 3, before + 4]);
    const beyond = await bobSocket.request({ type: 'subscribe', room_id: roomId, since_seq: before + 100 });
    expect(beyond).toMatchObject({ type: 'error', code: 'invalid' });
    await bobSocket.close();
  });
});
