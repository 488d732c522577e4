import { ChatClient, memoryOutbox } from '@chat/shared/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { api } from '../support/http.js';
import { TestSocket } from '../support/socket-client.js';
import { mintToken, TestStack } from '../support/test-stack.js';

/**
 * Urgent messages and acknowledgement requests (DESIGN 10.2): who may send them, acknowledging
 * over REST and the socket (idempotent, 409 where it makes no sense), the message.acknowledged
 * event and its replay, and the acknowledgement list with `pending`.
 */
const stack = new TestStack({ gateways: 2 });
const rest = (i = 0) => stack.gateway(i).httpUrl;

/** Every role of the authorization matrix; all but the outsider are members of each room. */
const tokens = {
  owner: mintToken('u-owner', { name: 'Olivia Owner' }),
  admin: mintToken('u-admin', { name: 'Adam Admin' }),
  member: mintToken('u-member', { name: 'Mia Member' }),
  nonMember: mintToken('u-outsider', { name: 'Otto Outsider' }),
  staff: mintToken('u-staff', { name: 'Stella Staff', roles: ['staff'] }),
  moderator: mintToken('u-moderator', { name: 'Max Moderator', roles: ['moderator'] }),
  service: mintToken('u-service', { name: 'Host App', roles: ['service'] }),
} as const;
type Role = keyof typeof tokens;
const memberIds = ['u-admin', 'u-member', 'u-staff', 'u-moderator', 'u-service'];

beforeAll(() => stack.start());
afterAll(() => stack.stop());

async function room(): Promise<string> {
  const created = await api(rest(), 'POST', '/v1/rooms', {
    token: tokens.owner,
    body: { kind: 'group', title: 'Front desk', member_ids: memberIds },
  });
  expect(created.status).toBe(201);
  const roomId = created.body.id as string;
  const promoted = await api(rest(), 'PATCH', `/v1/rooms/${roomId}/members/u-admin`, { token: tokens.owner, body: { role: 'admin' } });
  expect(promoted.status).toBe(200);
  return roomId;
}

type Sent = { id: string; seq: number; priority: string; ack_requested: boolean; acknowledgements: { count: number; me?: boolean } };

async function send(token: string, roomId: string, extra: Record<string, unknown> = {}) {
  return api<Sent & { code?: string }>(rest(), 'POST', `/v1/rooms/${roomId}/messages`, {
    token,
    body: { client_msg_id: `k-${Math.random()}`, body: 'The guest in 12 is locked out', ...extra },
  });
}

const acknowledge = (token: string, roomId: string, messageId: string) =>
  api<Sent & { code?: string }>(rest(), 'POST', `/v1/rooms/${roomId}/messages/${messageId}/acknowledgement`, { token });

async function history(roomId: string, token = tokens.owner) {
  return (await api<{ items: Sent[] }>(rest(), 'GET', `/v1/rooms/${roomId}/messages`, { token })).body.items;
}

describe('who may send urgent messages and acknowledgement requests', () => {
  const expected: Record<Role, number> = {
    owner: 201,
    admin: 201,
    member: 403,
    nonMember: 404,
    staff: 201,
    moderator: 201,
    service: 201,
  };
  let roomId: string;
  beforeAll(async () => {
    roomId = await room();
  });

  for (const [role, status] of Object.entries(expected) as Array<[Role, number]>) {
    for (const extra of [{ priority: 'urgent' }, { ack_requested: true }, { priority: 'urgent', ack_requested: true }]) {
      it(`${role} sending ${JSON.stringify(extra)}: ${status}`, async () => {
        const before = await history(roomId);
        const sent = await send(tokens[role], roomId, extra);
        expect(sent.status).toBe(status);
        if (status === 201) {
          expect(sent.body).toMatchObject({
            priority: extra.priority ?? 'normal',
            ack_requested: extra.ack_requested ?? false,
            acknowledgements: { count: 0, me: false },
          });
        } else {
          expect(sent.body.code).toBe(status === 403 ? 'forbidden' : 'not_found');
          expect(await history(roomId)).toEqual(before); // nothing stored
        }
      });
    }
  }

  it('lets every member send a plain message, with explicit priority normal, over REST and the socket', async () => {
    const plain = await send(tokens.member, roomId, { priority: 'normal', ack_requested: false });
    expect(plain).toMatchObject({ status: 201, body: { priority: 'normal', ack_requested: false, acknowledgements: { count: 0 } } });
    const socket = await TestSocket.connect(stack.gateway(1).wsUrl, tokens.member);
    const refused = await socket.request({
      type: 'message.send',
      room_id: roomId,
      client_msg_id: 'sock-urgent',
      body: 'x',
      priority: 'urgent',
    });
    expect(refused).toMatchObject({ type: 'error', code: 'forbidden' });
    await socket.close();
    const staffSocket = await TestSocket.connect(stack.gateway(1).wsUrl, tokens.staff);
    const ack = await staffSocket.ack({
      type: 'message.send',
      room_id: roomId,
      client_msg_id: 'sock-urgent',
      body: 'Fire drill at 10',
      priority: 'urgent',
      ack_requested: true,
    });
    expect(ack.message).toMatchObject({ priority: 'urgent', ack_requested: true, acknowledgements: { count: 0, me: false } });
    await staffSocket.close();
  });

  it('refuses bad input with `invalid` (the house answers 400 for a body that fails its schema) and stores nothing', async () => {
    const before = await history(roomId);
    for (const extra of [
      { priority: 'high' },
      { priority: 'URGENT' },
      { priority: 1 },
      { ack_requested: 'yes' },
      { ack_requested: null },
    ]) {
      const sent = await send(tokens.owner, roomId, extra);
      expect(sent.status, JSON.stringify(extra)).toBe(400);
      expect(sent.body.code).toBe('invalid');
    }
    const socket = await TestSocket.connect(stack.gateway(0).wsUrl, tokens.owner);
    const bad = await socket.request({ type: 'message.send', room_id: roomId, client_msg_id: 'bad-prio', body: 'x', priority: 'loud' });
    expect(bad).toMatchObject({ type: 'error', code: 'invalid' });
    await socket.close();
    expect(await history(roomId)).toEqual(before);
  });
});

describe('acknowledging', () => {
  it('follows the matrix: every member but the sender may acknowledge; outsiders get 404', async () => {
    const roomId = await room();
    const sent = (await send(tokens.owner, roomId, { ack_requested: true })).body;
    const expected: Record<Role, number> = {
      owner: 409, // the sender
      admin: 200,
      member: 200,
      nonMember: 404,
      staff: 200,
      moderator: 200,
      service: 200,
    };
    let count = 0;
    for (const [role, status] of Object.entries(expected) as Array<[Role, number]>) {
      const answer = await acknowledge(tokens[role], roomId, sent.id);
      expect(answer.status, role).toBe(status);
      if (status === 200) {
        count++;
        expect(answer.body).toMatchObject({ id: sent.id, acknowledgements: { count, me: true } });
      } else expect(answer.body.code).toBe(status === 409 ? 'conflict' : 'not_found');
    }
    const [stored] = await history(roomId, tokens.member);
    expect(stored?.acknowledgements).toEqual({ count: 5, me: true });
    const [asOwner] = await history(roomId, tokens.owner);
    expect(asOwner?.acknowledgements).toEqual({ count: 5, me: false });
  });

  it('answers 409 conflict for a message that did not ask, and 404 for an unknown message', async () => {
    const roomId = await room();
    const urgentOnly = (await send(tokens.owner, roomId, { priority: 'urgent' })).body;
    expect(await acknowledge(tokens.member, roomId, urgentOnly.id)).toMatchObject({ status: 409, body: { code: 'conflict' } });
    const missing = await acknowledge(tokens.member, roomId, '00000000-0000-4000-8000-000000000000');
    expect(missing).toMatchObject({ status: 404, body: { code: 'not_found' } });
    const badId = await acknowledge(tokens.member, roomId, 'not-a-uuid');
    expect(badId.status).toBeGreaterThanOrEqual(400);
    expect(badId.status).toBeLessThan(500);
    const [stored] = await history(roomId);
    expect(stored).toMatchObject({ id: urgentOnly.id, seq: urgentOnly.seq, acknowledgements: { count: 0 } });
    const next = (await send(tokens.owner, roomId)).body;
    expect(next.seq).toBe(urgentOnly.seq + 1); // refusals took no seq
  });

  it('is idempotent: a repeat returns the same message and adds no event; the socket frame acks {message}', async () => {
    const roomId = await room();
    const watcher = await TestSocket.connect(stack.gateway(1).wsUrl, tokens.admin);
    await watcher.ack({ type: 'subscribe', room_id: roomId });
    const sent = (await send(tokens.owner, roomId, { priority: 'urgent', ack_requested: true })).body;
    const socket = await TestSocket.connect(stack.gateway(0).wsUrl, tokens.member);
    const first = await socket.ack({ type: 'message.acknowledge', room_id: roomId, message_id: sent.id });
    expect(first.message).toMatchObject({ id: sent.id, seq: sent.seq, acknowledgements: { count: 1, me: true } });
    const event = await watcher.next((f) => f.type === 'message.acknowledged');
    expect(event).toEqual({
      type: 'message.acknowledged',
      room_id: roomId,
      seq: sent.seq + 1,
      user_id: 'u-member',
      message: expect.objectContaining({
        id: sent.id,
        seq: sent.seq,
        priority: 'urgent',
        ack_requested: true,
        acknowledgements: { count: 1 },
      }),
    });
    const again = await socket.ack({ type: 'message.acknowledge', room_id: roomId, message_id: sent.id });
    expect(again.message).toEqual(first.message);
    const overRest = await acknowledge(tokens.member, roomId, sent.id);
    expect(overRest).toMatchObject({ status: 200, body: { acknowledgements: { count: 1, me: true } } });
    const byStaff = await socket.request({ type: 'message.acknowledge', room_id: roomId, message_id: 'nope' });
    expect(byStaff).toMatchObject({ type: 'error', code: 'invalid' });
    // The next event in the room follows the one acknowledgement directly: repeats took no seq.
    const next = (await send(tokens.owner, roomId)).body;
    expect(next.seq).toBe(sent.seq + 2);
    await watcher.next((f) => f.type === 'message.created' && (f.message as { id: string }).id === next.id);
    expect(watcher.events(roomId).filter((f) => f.type === 'message.acknowledged')).toHaveLength(1);
    await Promise.all([watcher.close(), socket.close()]);
  });

  it('replays message.acknowledged like any persisted event after since_seq', async () => {
    const roomId = await room();
    const sent = (await send(tokens.owner, roomId, { ack_requested: true })).body;
    await acknowledge(tokens.staff, roomId, sent.id);
    await acknowledge(tokens.member, roomId, sent.id);
    const late = await TestSocket.connect(stack.gateway(1).wsUrl, tokens.admin);
    const ack = await late.ack({ type: 'subscribe', room_id: roomId, since_seq: sent.seq });
    expect(ack.last_seq).toBe(sent.seq + 2);
    const first = await late.next((f) => f.type === 'message.acknowledged');
    const second = await late.next((f) => f.type === 'message.acknowledged');
    expect([first.seq, first.user_id, second.seq, second.user_id]).toEqual([sent.seq + 1, 'u-staff', sent.seq + 2, 'u-member']);
    expect((second.message as Sent).acknowledgements).toEqual({ count: 2 });
    await late.close();
  });
});

describe('the acknowledgement list', () => {
  it('names who acknowledged and who of the members at send time (less the sender) is pending', async () => {
    const roomId = await room();
    const sent = (await send(tokens.admin, roomId, { priority: 'urgent', ack_requested: true })).body;
    // Joined after the send: not asked, so never pending.
    const added = await api(rest(), 'POST', `/v1/rooms/${roomId}/members`, { token: tokens.owner, body: { member_ids: ['u-late'] } });
    expect(added.status).toBeLessThan(300);
    await acknowledge(tokens.member, roomId, sent.id);
    await acknowledge(tokens.owner, roomId, sent.id);
    const list = await api<{ items: Array<{ user_id: string; name: string | null; acknowledged_at: string }>; pending: string[] }>(
      rest(1),
      'GET',
      `/v1/rooms/${roomId}/messages/${sent.id}/acknowledgements`,
      { token: tokens.member },
    );
    expect(list.status).toBe(200);
    expect(list.body.items).toEqual([
      { user_id: 'u-member', name: 'Mia Member', acknowledged_at: expect.any(String) },
      { user_id: 'u-owner', name: 'Olivia Owner', acknowledged_at: expect.any(String) },
    ]);
    expect([...list.body.pending].sort()).toEqual(['u-moderator', 'u-service', 'u-staff']);
    const outsider = await api(rest(), 'GET', `/v1/rooms/${roomId}/messages/${sent.id}/acknowledgements`, { token: tokens.nonMember });
    expect(outsider.status).toBe(404);
    const plain = (await send(tokens.member, roomId)).body;
    const none = await api(rest(), 'GET', `/v1/rooms/${roomId}/messages/${plain.id}/acknowledgements`, { token: tokens.member });
    expect(none.body).toEqual({ items: [], pending: [] });
  });
});

describe('the SDK', () => {
  it('acknowledges over the socket and lists acknowledgements over REST', async () => {
    const roomId = await room();
    const sent = (await send(tokens.staff, roomId, { priority: 'urgent', ack_requested: true })).body;
    const chat = new ChatClient({
      url: stack.gateway(0).wsUrl,
      httpUrl: stack.gateway(0).httpUrl,
      token: tokens.moderator,
      createSocket: (url) =>
        new WebSocket(url) as unknown as ReturnType<NonNullable<ConstructorParameters<typeof ChatClient>[0]['createSocket']>>,
      outbox: memoryOutbox(),
    });
    await chat.connect();
    try {
      const message = await chat.acknowledge(roomId, sent.id);
      expect(message).toMatchObject({ id: sent.id, priority: 'urgent', acknowledgements: { count: 1, me: true } });
      expect(await chat.acknowledge(roomId, sent.id)).toEqual(message);
      const list = await chat.acknowledgements(roomId, sent.id);
      expect(list.items.map((i) => i.user_id)).toEqual(['u-moderator']);
      expect([...list.pending].sort()).toEqual(['u-admin', 'u-member', 'u-owner', 'u-service']);
      const plain = (await send(tokens.member, roomId)).body;
      await expect(chat.acknowledge(roomId, plain.id)).rejects.toMatchObject({ code: 'conflict' });
    } finally {
      chat.close();
    }
  });
});
