import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.js';
import { api } from '../support/http.js';
import { type Frame, TestSocket } from '../support/socket-client.js';
import { mintToken, TestStack } from '../support/test-stack.js';

/** The compatibility path `/ws/chat/{room_id}/` (DESIGN 10.5): the earlier systems' frames and the backlog on open. */
const stack = new TestStack({ gateways: 1 });
const alice = mintToken('alice', { name: 'Alice' });
const bob = mintToken('bob', { name: 'Bob' });

beforeAll(() => stack.start());
afterAll(() => stack.stop());

const http = () => stack.gateway().httpUrl;
const compatUrl = (roomId: string, token: string) => `${stack.gateway().wsUrl}/ws/chat/${roomId}/?token=${token}`;

async function newGroup(title: string): Promise<string> {
  const created = await api(http(), 'POST', '/v1/rooms', { token: alice, body: { kind: 'group', title, member_ids: ['bob'] } });
  expect(created.status).toBe(201);
  return created.body.id as string;
}

/** Every message of a room, oldest first, through REST history. */
async function allMessages(roomId: string): Promise<Array<Record<string, unknown>>> {
  const items: Array<Record<string, unknown>> = [];
  let before: string | null = '';
  while (before !== null) {
    const query: string = before === '' ? '?limit=100' : `?limit=100&before_seq=${before}`;
    const page: { body: { items: Array<Record<string, unknown>>; next_cursor: string | null } } = await api<{
      items: Array<Record<string, unknown>>;
      next_cursor: string | null;
    }>(http(), 'GET', `/v1/rooms/${roomId}/messages${query}`, { token: alice });
    items.unshift(...page.body.items);
    before = page.body.next_cursor;
  }
  return items;
}

/** The frames a socket got, from its first until the subscribe ack the compatibility path sends itself. */
function framesUntilOpenAck(socket: TestSocket): Frame[] {
  const at = socket.frames.findIndex((f) => f.type === 'ack' && f.id === null);
  return socket.frames.slice(0, at);
}

describe('compatibility path: backlog on open', () => {
  it('sends the last 50 messages oldest first as message.created right after hello, then live events', async () => {
    const roomId = await newGroup('Backlog');
    const sender = await TestSocket.connect(stack.gateway().wsUrl, alice);
    for (let i = 1; i <= 55; i++) {
      await sender.ack({ type: 'message.send', room_id: roomId, client_msg_id: `backlog-${i}`, body: `message ${i}` });
    }
    const legacy = await TestSocket.open(compatUrl(roomId, bob));
    const ack = await legacy.next((f) => f.type === 'ack' && f.id === null);
    expect(ack.data).toMatchObject({ room_id: roomId, last_seq: 55 });
    const opening = framesUntilOpenAck(legacy);
    expect(opening[0]?.type).toBe('hello');
    const backlog = opening.slice(1);
    expect(backlog).toHaveLength(50);
    expect(backlog.every((f) => f.type === 'message.created' && f.room_id === roomId)).toBe(true);
    expect(backlog.map((f) => (f.message as { body: string }).body)).toEqual(Array.from({ length: 50 }, (_, i) => `message ${i + 6}`));
    expect(backlog.map((f) => f.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 6));

    await sender.ack({ type: 'message.send', room_id: roomId, client_msg_id: 'backlog-live', body: 'live' });
    expect(await legacy.next((f) => f.type === 'message.created' && f.seq === 56)).toMatchObject({ message: { body: 'live' } });
    await Promise.all([legacy.close(), sender.close()]);
  });

  it('sends nothing before the ack in an empty room', async () => {
    const roomId = await newGroup('Empty');
    const legacy = await TestSocket.open(compatUrl(roomId, bob));
    await legacy.next((f) => f.type === 'ack' && f.id === null);
    expect(framesUntilOpenAck(legacy).map((f) => f.type)).toEqual(['hello']);
    await legacy.close();
  });

  it('leaves no gap and no duplicate between the backlog and live events while messages keep coming', async () => {
    const roomId = await newGroup('Race');
    const sender = await TestSocket.connect(stack.gateway().wsUrl, alice);
    const total = 160;
    const openers: Array<Promise<TestSocket>> = [];
    // Sockets open while sends are being stored and published, at different points of the stream.
    for (let i = 1; i <= total; i++) {
      const sent = sender.ack({ type: 'message.send', room_id: roomId, client_msg_id: `race-${i}`, body: `race ${i}` });
      if (i % 20 === 0) openers.push(TestSocket.open(compatUrl(roomId, bob)));
      await sent;
    }
    const sockets = await Promise.all(openers);
    const final = await sender.ack({ type: 'message.send', room_id: roomId, client_msg_id: 'race-final', body: 'final' });
    const finalId = (final.message as { id: string }).id;
    const stored = await allMessages(roomId);
    for (const socket of sockets) {
      await socket.next((f) => f.type === 'message.created' && (f.message as { id: string }).id === finalId, 30_000);
      const created = socket.frames.filter((f) => f.type === 'message.created').map((f) => f.message as { id: string; seq: number });
      const first = created[0];
      expect(first).toBeDefined();
      // Everything from the first message it got to the last, each once, in order.
      const expected = stored.filter((m) => (m.seq as number) >= (first?.seq ?? 0)).map((m) => m.id);
      expect(created.map((m) => m.id)).toEqual(expected);
      expect(framesUntilOpenAck(socket).length).toBeLessThanOrEqual(51);
    }
    await Promise.all([...sockets.map((s) => s.close()), sender.close()]);
  });
});

describe("compatibility path: the earlier systems' frames", () => {
  it('answers the frames quoted in issue 16 like their modern equivalents', async () => {
    const roomId = await newGroup('Frames');
    const modern = await TestSocket.connect(stack.gateway().wsUrl, alice);
    await modern.ack({ type: 'subscribe', room_id: roomId });
    const legacy = await TestSocket.open(compatUrl(roomId, bob));
    await legacy.next((f) => f.type === 'ack' && f.id === null);
    /** Earlier clients put no id on their frames: each answer comes with id null, in order. */
    const answer = async (frame: string) => {
      const next = legacy.next((f) => (f.type === 'ack' || f.type === 'error') && f.id === null);
      legacy.send(frame);
      return next;
    };

    const staffWeb = await answer('{"type":"chat_message","message":"Hello World!"}');
    expect(staffWeb).toMatchObject({ type: 'ack', data: { message: { room_id: roomId, sender_id: 'bob', body: 'Hello World!', seq: 1 } } });
    expect((staffWeb.data as { message: { client_msg_id: string } }).message.client_msg_id).toMatch(/.+/);
    expect(await modern.next((f) => f.type === 'message.created' && f.seq === 1)).toMatchObject({ message: { body: 'Hello World!' } });

    const tripApp = await answer('{"type":"chat_message","content":"Hello!"}');
    expect(tripApp).toMatchObject({ type: 'ack', data: { message: { body: 'Hello!', seq: 2 } } });

    expect(await answer('{"type":"typing"}')).toMatchObject({ type: 'ack', data: {} });
    expect(await modern.next((f) => f.type === 'typing')).toMatchObject({ room_id: roomId, user_id: 'bob' });

    // Two messages from Alice, then Bob marks read up to the first one, then the whole room.
    const first = await modern.ack({ type: 'message.send', room_id: roomId, client_msg_id: 'a-1', body: 'one' });
    await modern.ack({ type: 'message.send', room_id: roomId, client_msg_id: 'a-2', body: 'two' });
    const firstId = (first.message as { id: string }).id;
    // Unread counts come from the rooms service's projection of the event stream: let it see both.
    await eventually(async () => {
      const room = await api(stack.gateway().httpUrl, 'GET', `/v1/rooms/${roomId}`, { token: bob });
      expect((room.body.me as { unread_count: number }).unread_count).toBe(2);
    });
    expect(await answer(JSON.stringify({ type: 'read_receipt', message_id: firstId }))).toMatchObject({
      type: 'ack',
      data: { room_id: roomId, last_read_seq: 3, unread_count: 1 },
    });
    expect(await modern.next((f) => f.type === 'read' && f.user_id === 'bob')).toMatchObject({ seq: 3 });
    expect(await answer('{"type":"mark_room_read"}')).toMatchObject({
      type: 'ack',
      data: { room_id: roomId, last_read_seq: 4, unread_count: 0 },
    });

    const ownId = (staffWeb.data as { message: { id: string } }).message.id;
    expect(await answer(JSON.stringify({ type: 'edit_message', message_id: ownId, content: 'Hello again' }))).toMatchObject({
      type: 'ack',
      data: { message: { id: ownId, body: 'Hello again' } },
    });
    expect(await answer(JSON.stringify({ type: 'edit_message', message_id: ownId, message: 'Hello once more' }))).toMatchObject({
      type: 'ack',
      data: { message: { id: ownId, body: 'Hello once more' } },
    });
    expect(await modern.next((f) => f.type === 'message.updated' && f.seq === 6)).toMatchObject({ message: { body: 'Hello once more' } });

    const reply = await answer(
      JSON.stringify({ type: 'chat_message', message: 'a reply', reply_to: firstId, client_msg_id: 'legacy-key' }),
    );
    expect(reply).toMatchObject({ type: 'ack', data: { message: { reply_to: firstId, client_msg_id: 'legacy-key' } } });
    const again = await answer(
      JSON.stringify({ type: 'chat_message', message: 'a reply', reply_to: firstId, client_msg_id: 'legacy-key' }),
    );
    expect(again).toMatchObject({ type: 'ack', data: { message: { id: (reply.data as { message: { id: string } }).message.id } } });

    // Frames with an id get it back; modern frames need no room_id on this path.
    expect(await legacy.request({ type: 'typing', is_typing: false })).toMatchObject({ type: 'ack', data: {} });
    expect(await legacy.request({ type: 'read', seq: 1 })).toMatchObject({ type: 'ack', data: { room_id: roomId } });
    expect(await legacy.request({ type: 'chat_message' })).toMatchObject({
      type: 'error',
      code: 'invalid',
      details: [expect.objectContaining({ path: 'message' })],
    });
    expect(await legacy.request({ type: 'edit_message', content: 'x' })).toMatchObject({
      type: 'error',
      code: 'invalid',
      details: [expect.objectContaining({ path: 'message_id' })],
    });
    await Promise.all([legacy.close(), modern.close()]);
  });

  it('keeps the earlier frames off the modern socket', async () => {
    const socket = await TestSocket.connect(stack.gateway().wsUrl, bob);
    expect(await socket.request({ type: 'chat_message', message: 'Hello World!' })).toMatchObject({ type: 'error', code: 'invalid' });
    await socket.close();
  });
});
