import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../support/http.js';
import { TestSocket } from '../support/socket-client.js';
import { mintToken, TestStack } from '../support/test-stack.js';

/** DESIGN 10.3: rooms of host objects close (read-only) and reopen with them. */
const stack = new TestStack({ gateways: 2 });
const service = mintToken('host-app', { name: 'Host', roles: ['service'] });
const alice = mintToken('alice', { name: 'Alice' });
const bob = mintToken('bob', { name: 'Bob' });
const rest = (i = 0) => stack.gateway(i).httpUrl;
let n = 0;
const key = () => `k-${Date.now()}-${n++}`;

beforeAll(() => stack.start());
afterAll(() => stack.stop());

async function contextRoom(id: string): Promise<string> {
  const room = await api(rest(), 'PUT', `/v1/contexts/trip/${id}/room`, {
    token: service,
    body: { title: `Trip ${id}`, member_ids: ['alice', 'bob'] },
  });
  expect(room.status).toBe(201);
  return room.body.id as string;
}

const send = (roomId: string, token = alice, i = 0) =>
  api(rest(i), 'POST', `/v1/rooms/${roomId}/messages`, { token, body: { client_msg_id: key(), body: 'hello' } });

describe('closing and reopening context rooms', () => {
  it('closes read-only and reopens, idempotently, announcing each change to subscribers', async () => {
    const roomId = await contextRoom('T-close');
    const first = await send(roomId);
    expect(first.status).toBe(201);
    const messageId = first.body.id as string;
    const socket = await TestSocket.connect(stack.gateway(1).wsUrl, bob);
    await socket.ack({ type: 'subscribe', room_id: roomId });

    const closed = await api(rest(), 'POST', '/v1/contexts/trip/T-close/close', { token: service });
    expect(closed).toMatchObject({ status: 200, body: { id: roomId, closed_at: expect.any(String) } });
    expect(await socket.next((f) => f.type === 'room.updated')).toMatchObject({
      room_id: roomId,
      room: { closed_at: closed.body.closed_at },
    });
    const again = await api(rest(1), 'POST', '/v1/contexts/trip/T-close/close', { token: service });
    expect(again).toMatchObject({ status: 200, body: { id: roomId, closed_at: closed.body.closed_at } });

    // Writes are refused as a conflict, over REST and the socket (the send path's cached answer was forgotten).
    expect(await send(roomId)).toMatchObject({ status: 409, body: { code: 'conflict' } });
    expect(await send(roomId, bob, 1)).toMatchObject({ status: 409, body: { code: 'conflict' } });
    expect(await socket.request({ type: 'message.send', room_id: roomId, client_msg_id: key(), body: 'x' })).toMatchObject({
      type: 'error',
      code: 'conflict',
    });
    const edit = await api(rest(), 'PATCH', `/v1/rooms/${roomId}/messages/${messageId}`, { token: alice, body: { body: 'edited' } });
    expect(edit).toMatchObject({ status: 409, body: { code: 'conflict' } });
    const react = await api(rest(), 'PUT', `/v1/rooms/${roomId}/messages/${messageId}/reactions/${encodeURIComponent('👍')}`, {
      token: bob,
    });
    expect(react).toMatchObject({ status: 409, body: { code: 'conflict' } });

    // Reading still works: the room, its history, search, receipts.
    expect(await api(rest(), 'GET', `/v1/rooms/${roomId}`, { token: alice })).toMatchObject({
      status: 200,
      body: { closed_at: expect.any(String) },
    });
    const history = await api<{ items: Array<{ id: string; body: string }> }>(rest(), 'GET', `/v1/rooms/${roomId}/messages`, {
      token: bob,
    });
    expect(history.body.items.map((m) => [m.id, m.body])).toEqual([[messageId, 'hello']]);
    expect((await api(rest(), 'GET', `/v1/rooms/${roomId}/messages/${messageId}/receipts`, { token: alice })).status).toBe(200);

    // A closed room leaves the default list and shows with ?archived=true.
    const listed = await api<{ items: Array<{ id: string }> }>(rest(), 'GET', '/v1/rooms?limit=100', { token: alice });
    expect(listed.body.items.map((r) => r.id)).not.toContain(roomId);
    const archived = await api<{ items: Array<{ id: string }> }>(rest(), 'GET', '/v1/rooms?archived=true&limit=100', { token: alice });
    expect(archived.body.items.map((r) => r.id)).toContain(roomId);

    const reopened = await api(rest(1), 'POST', '/v1/contexts/trip/T-close/reopen', { token: service });
    expect(reopened).toMatchObject({ status: 200, body: { id: roomId, closed_at: null } });
    expect(await socket.next((f) => f.type === 'room.updated')).toMatchObject({ room: { closed_at: null } });
    expect((await api(rest(), 'POST', '/v1/contexts/trip/T-close/reopen', { token: service })).status).toBe(200);
    expect((await send(roomId)).status).toBe(201);
    const relisted = await api<{ items: Array<{ id: string }> }>(rest(), 'GET', '/v1/rooms?limit=100', { token: alice });
    expect(relisted.body.items.map((r) => r.id)).toContain(roomId);
    // Exactly one announcement per change: the repeated close and reopen said nothing.
    expect(socket.frames.filter((f) => f.type === 'room.updated')).toHaveLength(2);
    await socket.close();
  });

  it('is for service tokens only, and 404 for an object without a room', async () => {
    await contextRoom('T-auth');
    // A member, a non-member, and token roles that are not the host: none closes or reopens.
    const others = [alice, mintToken('nobody'), mintToken('mod', { roles: ['moderator'] }), mintToken('staffer', { roles: ['staff'] })];
    for (const token of others) {
      for (const change of ['close', 'reopen']) {
        expect(await api(rest(), 'POST', `/v1/contexts/trip/T-auth/${change}`, { token }), change).toMatchObject({
          status: 403,
          body: { code: 'forbidden' },
        });
      }
    }
    expect((await api(rest(), 'GET', '/v1/rooms?limit=100', { token: alice })).status).toBe(200);
    expect(await api(rest(), 'POST', '/v1/contexts/trip/T-none/close', { token: service })).toMatchObject({
      status: 404,
      body: { code: 'not_found' },
    });
    expect(await api(rest(), 'POST', '/v1/contexts/Trip!/x/close', { token: service })).toMatchObject({
      status: 400,
      body: { code: 'invalid' },
    });
    // Nothing was closed by the refusals.
    const room = await api<{ items: Array<{ context: { id: string } | null; closed_at: string | null }> }>(
      rest(),
      'GET',
      '/v1/rooms?limit=100',
      {
        token: alice,
      },
    );
    expect(room.body.items.find((r) => r.context?.id === 'T-auth')).toMatchObject({ closed_at: null });
  });
});
