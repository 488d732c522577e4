import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.js';
import { api } from '../support/http.js';
import { TestSocket } from '../support/socket-client.js';
import { mintToken, TestStack } from '../support/test-stack.js';

// DESIGN 10.4: the host application posts system messages into the rooms of its objects.
const stack = new TestStack();
const tokens = {
  service: mintToken('host-app', { name: 'Property manager', roles: ['service'] }),
  guest: mintToken('guest-1', { name: 'Gina Guest' }),
  cleaner: mintToken('cleaner-1', { name: 'Carl Cleaner' }),
  moderator: mintToken('mod', { roles: ['moderator'] }),
};
const rest = () => stack.gateway(0).httpUrl;

beforeAll(() => stack.start());
afterAll(() => stack.stop());

async function contextRoom(id: string): Promise<string> {
  const answer = await api(rest(), 'PUT', `/v1/contexts/task/${id}/room`, {
    token: tokens.service,
    body: { title: `Task ${id}`, member_ids: ['guest-1', 'cleaner-1'] },
  });
  expect(answer.status).toBe(201);
  return answer.body.id as string;
}

describe('system messages from the host', () => {
  it('stores kind system from the token, live to members, unread, idempotent by client_msg_id', async () => {
    const roomId = await contextRoom('K-12');
    const guest = await TestSocket.connect(stack.gateway(0).wsUrl, tokens.guest);
    await guest.ack({ type: 'subscribe', room_id: roomId });
    const body = { client_msg_id: 'done-12', body: '  Cleaning of 12 marked done  ' };
    const first = await api(rest(), 'POST', '/v1/contexts/task/K-12/messages', { token: tokens.service, body });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      room_id: roomId,
      seq: 1,
      kind: 'system',
      sender_id: 'host-app',
      sender_name: 'Property manager',
      body: 'Cleaning of 12 marked done',
      client_msg_id: 'done-12',
      mentions: [],
      attachments: [],
    });
    const event = await guest.next((f) => f.type === 'message.created' && f.room_id === roomId);
    expect(event).toMatchObject({ seq: 1, message: { id: first.body.id, kind: 'system' } });

    const again = await api(rest(), 'POST', '/v1/contexts/task/K-12/messages', { token: tokens.service, body });
    expect(again).toMatchObject({ status: 200, body: { id: first.body.id, seq: 1 } });
    const history = await api<{ items: unknown[] }>(rest(), 'GET', `/v1/rooms/${roomId}/messages`, { token: tokens.cleaner });
    expect(history.body.items).toHaveLength(1);
    // Counted as unread for every member (the host is not one).
    await eventually(async () => {
      const unread = await api(rest(), 'GET', '/v1/me/unread', { token: tokens.cleaner });
      expect(unread.body).toMatchObject({ total: 1, rooms: [{ room_id: roomId, unread_count: 1 }] });
    });
    await guest.close();
  });

  it('answers 404 for an object without a room, 403 for other tokens, 400 for bad input, and stores nothing', async () => {
    const roomId = await contextRoom('K-13');
    const post = (token: string, path: string, body: unknown) => api(rest(), 'POST', path, { token, body });
    const ok = { client_msg_id: 'x-1', body: 'hello' };
    expect(await post(tokens.service, '/v1/contexts/task/NOPE/messages', ok)).toMatchObject({ status: 404, body: { code: 'not_found' } });
    expect(await post(tokens.guest, '/v1/contexts/task/K-13/messages', ok)).toMatchObject({ status: 403, body: { code: 'forbidden' } });
    expect(await post(tokens.moderator, '/v1/contexts/task/K-13/messages', ok)).toMatchObject({ status: 403 });
    expect(await post(tokens.service, '/v1/contexts/Task!/K-13/messages', ok)).toMatchObject({ status: 400, body: { code: 'invalid' } });
    expect(await post(tokens.service, '/v1/contexts/task/K-13/messages', { client_msg_id: 'x-2', body: '   ' })).toMatchObject({
      status: 400,
      body: { code: 'invalid' },
    });
    expect(await post(tokens.service, '/v1/contexts/task/K-13/messages', { body: 'no key' })).toMatchObject({ status: 400 });
    const history = await api<{ items: unknown[] }>(rest(), 'GET', `/v1/rooms/${roomId}/messages`, { token: tokens.guest });
    expect(history.body.items).toHaveLength(0);
    // A member cannot post system messages through the room's own route either: theirs are plain.
    const plain = await api(rest(), 'POST', `/v1/rooms/${roomId}/messages`, {
      token: tokens.guest,
      body: { client_msg_id: 'g', body: 'hi' },
    });
    expect(plain.body).toMatchObject({ kind: 'text', sender_id: 'guest-1' });
  });

  it('answers 409 in a closed room, except for a repeat of a message stored before it closed', async () => {
    await contextRoom('K-14');
    const path = '/v1/contexts/task/K-14/messages';
    const before = await api(rest(), 'POST', path, { token: tokens.service, body: { client_msg_id: 'c-1', body: 'Check-in at 3' } });
    expect(before.status).toBe(201);
    expect((await api(rest(), 'POST', '/v1/contexts/task/K-14/close', { token: tokens.service })).status).toBe(200);
    const refused = await api(rest(), 'POST', path, { token: tokens.service, body: { client_msg_id: 'c-2', body: 'Too late' } });
    expect(refused).toMatchObject({ status: 409, body: { code: 'conflict' } });
    const repeat = await api(rest(), 'POST', path, { token: tokens.service, body: { client_msg_id: 'c-1', body: 'Check-in at 3' } });
    expect(repeat).toMatchObject({ status: 200, body: { id: before.body.id } });
    expect((await api(rest(), 'POST', '/v1/contexts/task/K-14/reopen', { token: tokens.service })).status).toBe(200);
    const reopened = await api(rest(), 'POST', path, { token: tokens.service, body: { client_msg_id: 'c-2', body: 'Back open' } });
    expect(reopened).toMatchObject({ status: 201, body: { seq: 2 } });
  });

  it('may be urgent and ask every member to acknowledge it', async () => {
    const roomId = await contextRoom('K-15');
    const posted = await api(rest(), 'POST', '/v1/contexts/task/K-15/messages', {
      token: tokens.service,
      body: { client_msg_id: 'u-1', body: 'Guest in 12 is locked out', priority: 'urgent', ack_requested: true },
    });
    expect(posted).toMatchObject({ status: 201, body: { kind: 'system', priority: 'urgent', ack_requested: true } });
    const id = posted.body.id as string;
    const pending = await api(rest(), 'GET', `/v1/rooms/${roomId}/messages/${id}/acknowledgements`, { token: tokens.guest });
    expect((pending.body.pending as string[]).sort()).toEqual(['cleaner-1', 'guest-1']);
    const acked = await api(rest(), 'POST', `/v1/rooms/${roomId}/messages/${id}/acknowledgement`, { token: tokens.cleaner });
    expect(acked.status).toBe(200);
    const after = await api(rest(), 'GET', `/v1/rooms/${roomId}/messages/${id}/acknowledgements`, { token: tokens.guest });
    expect(after.body.pending).toEqual(['guest-1']);
    const bad = await api(rest(), 'POST', '/v1/contexts/task/K-15/messages', {
      token: tokens.service,
      body: { client_msg_id: 'u-2', body: 'x', priority: 'very' },
    });
    expect(bad).toMatchObject({ status: 400, body: { code: 'invalid' } });
  });
});
