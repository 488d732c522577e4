import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.js';
import { api } from '../support/http.js';
import { TestSocket } from '../support/socket-client.js';
import { mintToken, TestStack } from '../support/test-stack.js';

const stack = new TestStack({ gateways: 1 });
const rest = () => stack.gateway().httpUrl;
const owner = mintToken('d-owner', { name: 'Owner' });
const admin = mintToken('d-admin');
const member = mintToken('d-member');
const other = mintToken('d-other');
const moderator = mintToken('d-mod', { roles: ['moderator'] });

beforeAll(() => stack.start());
afterAll(() => stack.stop());

async function setup(): Promise<string> {
  const room = await api(rest(), 'POST', '/v1/rooms', {
    token: owner,
    body: { kind: 'group', title: 'Ops', member_ids: ['d-admin', 'd-member', 'd-other'] },
  });
  const roomId = room.body.id as string;
  await api(rest(), 'PATCH', `/v1/rooms/${roomId}/members/d-admin`, { token: owner, body: { role: 'admin' } });
  return roomId;
}

async function send(token: string, roomId: string, key: string) {
  return (await api(rest(), 'POST', `/v1/rooms/${roomId}/messages`, { token, body: { client_msg_id: key, body: `text of ${key}` } }))
    .body as { id: string; seq: number };
}

describe('soft delete', () => {
  it('keeps the place and seq, erases the body, and is a new event with its own seq', async () => {
    const roomId = await setup();
    const watcher = await TestSocket.connect(stack.gateway().wsUrl, other);
    await watcher.ack({ type: 'subscribe', room_id: roomId });
    const message = await send(member, roomId, 'del-1');
    const socket = await TestSocket.connect(stack.gateway().wsUrl, member);
    const ack = await socket.ack({ type: 'message.delete', room_id: roomId, message_id: message.id });
    expect(ack.message).toMatchObject({ id: message.id, seq: message.seq, body: '', attachments: [] });
    expect(typeof (ack.message as { deleted_at: unknown }).deleted_at).toBe('string');
    const event = await watcher.next((f) => f.type === 'message.deleted');
    expect(event).toMatchObject({ seq: message.seq + 1, message: { id: message.id, seq: message.seq, body: '' } });
    const history = await api<{ items: Array<{ id: string; body: string; deleted_at: string | null }> }>(
      rest(),
      'GET',
      `/v1/rooms/${roomId}/messages`,
      { token: other },
    );
    expect(history.body.items).toEqual([expect.objectContaining({ id: message.id, body: '', deleted_at: expect.any(String) })]);
    // Deleting again changes nothing and takes no seq.
    const again = await api(rest(), 'DELETE', `/v1/rooms/${roomId}/messages/${message.id}`, { token: member });
    expect(again).toMatchObject({ status: 200, body: { id: message.id } });
    const fresh = await send(member, roomId, 'del-2');
    expect(fresh.seq).toBe(message.seq + 2);
    await Promise.all([watcher.close(), socket.close()]);
  });

  it.each([
    ['the sender', 200, () => member],
    ['the room owner', 200, () => owner],
    ['a room admin', 200, () => admin],
    ['a moderator who is not a member', 200, () => moderator],
    ['another member', 403, () => other],
    ['an outsider', 404, () => mintToken('d-outsider')],
  ])('lets %s delete (%i)', async (_, status, token) => {
    const roomId = await setup();
    const message = await send(member, roomId, `who-${status}-${Math.random()}`);
    const response = await api(rest(), 'DELETE', `/v1/rooms/${roomId}/messages/${message.id}`, { token: token() });
    expect(response.status).toBe(status);
    const history = await api<{ items: Array<{ body: string }> }>(rest(), 'GET', `/v1/rooms/${roomId}/messages`, { token: owner });
    expect(history.body.items[0]?.body).toEqual(status === 200 ? '' : expect.stringContaining('text of'));
  });

  it('drops deleted messages from unread counts, and receipts still follow the cursors', async () => {
    const roomId = await setup();
    const first = await send(member, roomId, 'u1');
    const second = await send(member, roomId, 'u2');
    await send(member, roomId, 'u3');
    type Unread = { rooms: Array<{ room_id: string; unread_count: number }> };
    const unreadHere = async () =>
      (await api<Unread>(rest(), 'GET', '/v1/me/unread', { token: owner })).body.rooms.find((r) => r.room_id === roomId)?.unread_count;
    await eventually(async () => expect(await unreadHere()).toBe(3));
    await api(rest(), 'DELETE', `/v1/rooms/${roomId}/messages/${second.id}`, { token: member });
    await eventually(async () => expect(await unreadHere()).toBe(2));
    const read = await api(rest(), 'POST', `/v1/rooms/${roomId}/read`, { token: owner, body: { seq: second.seq } });
    expect(read.body).toEqual({ room_id: roomId, last_read_seq: second.seq, unread_count: 1 });
    const receipts = await api<{ items: Array<{ user_id: string }> }>(rest(), 'GET', `/v1/rooms/${roomId}/messages/${first.id}/receipts`, {
      token: member,
    });
    expect(receipts.body.items.map((r) => r.user_id)).toEqual(['d-owner']);
    const room = await api(rest(), 'GET', `/v1/rooms/${roomId}`, { token: owner });
    expect(room.body).toMatchObject({ me: { unread_count: 1 } });
  });
});
