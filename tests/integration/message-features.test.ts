import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../support/http.js';
import { TestSocket } from '../support/socket-client.js';
import { mintToken, TestStack } from '../support/test-stack.js';

const stack = new TestStack({ gateways: 2 });
const rest = (i = 0) => stack.gateway(i).httpUrl;
const alice = mintToken('f-alice', { name: 'Alice' });
const bob = mintToken('f-bob', { name: 'Bob' });
const carol = mintToken('f-carol', { name: 'Carol' });

beforeAll(() => stack.start());
afterAll(() => stack.stop());

async function room(): Promise<string> {
  const created = await api(rest(), 'POST', '/v1/rooms', {
    token: alice,
    body: { kind: 'group', title: 'Features', member_ids: ['f-bob', 'f-carol'] },
  });
  return created.body.id as string;
}

async function send(token: string, roomId: string, body: Record<string, unknown>) {
  return api(rest(), 'POST', `/v1/rooms/${roomId}/messages`, {
    token,
    body: { client_msg_id: `k-${Math.random()}`, body: 'hello', ...body },
  });
}

describe('edits', () => {
  it('lets the sender edit: a message.updated event with its own seq, edited_at set', async () => {
    const roomId = await room();
    const watcher = await TestSocket.connect(stack.gateway(1).wsUrl, bob);
    await watcher.ack({ type: 'subscribe', room_id: roomId });
    const sent = (await send(alice, roomId, { body: 'frist' })).body as { id: string; seq: number };
    const socket = await TestSocket.connect(stack.gateway(0).wsUrl, alice);
    const edited = await socket.ack({ type: 'message.edit', room_id: roomId, message_id: sent.id, body: ' first ' });
    expect(edited.message).toMatchObject({ id: sent.id, seq: sent.seq, body: 'first', edited_at: expect.any(String) });
    expect(await watcher.next((f) => f.type === 'message.updated')).toMatchObject({
      seq: sent.seq + 1,
      message: { id: sent.id, seq: sent.seq, body: 'first' },
    });
    const history = await api<{ items: Array<{ body: string }> }>(rest(), 'GET', `/v1/rooms/${roomId}/messages`, { token: carol });
    expect(history.body.items.map((m) => m.body)).toEqual(['first']);
    await Promise.all([watcher.close(), socket.close()]);
  });

  it('refuses edits by others (403), after delete (409), and bad bodies (400), changing nothing', async () => {
    const roomId = await room();
    const sent = (await send(alice, roomId, { body: 'original' })).body as { id: string };
    const byBob = await api(rest(), 'PATCH', `/v1/rooms/${roomId}/messages/${sent.id}`, { token: bob, body: { body: 'hacked' } });
    expect(byBob).toMatchObject({ status: 403, body: { code: 'forbidden' } });
    const empty = await api(rest(), 'PATCH', `/v1/rooms/${roomId}/messages/${sent.id}`, { token: alice, body: { body: '  ' } });
    expect(empty).toMatchObject({ status: 400, body: { code: 'invalid' } });
    const outsider = await api(rest(), 'PATCH', `/v1/rooms/${roomId}/messages/${sent.id}`, {
      token: mintToken('f-out'),
      body: { body: 'x' },
    });
    expect(outsider.status).toBe(404);
    await api(rest(), 'DELETE', `/v1/rooms/${roomId}/messages/${sent.id}`, { token: alice });
    const afterDelete = await api(rest(), 'PATCH', `/v1/rooms/${roomId}/messages/${sent.id}`, { token: alice, body: { body: 'again' } });
    expect(afterDelete).toMatchObject({ status: 409, body: { code: 'conflict' } });
    const history = await api<{ items: Array<{ body: string; seq: number }> }>(rest(), 'GET', `/v1/rooms/${roomId}/messages`, {
      token: alice,
    });
    expect(history.body.items).toEqual([expect.objectContaining({ body: '', seq: 1 })]);
    const next = (await send(alice, roomId, {})).body as { seq: number };
    expect(next.seq).toBe(3); // created (1) and deleted (2) only: refused edits took no seq
  });
});

describe('reactions', () => {
  it('aggregates per emoji with `me` for the caller, one per user and emoji, with reaction.updated events', async () => {
    const roomId = await room();
    const watcher = await TestSocket.connect(stack.gateway(1).wsUrl, carol);
    await watcher.ack({ type: 'subscribe', room_id: roomId });
    const sent = (await send(carol, roomId, {})).body as { id: string; seq: number };
    const aliceSocket = await TestSocket.connect(stack.gateway(0).wsUrl, alice);
    const first = await aliceSocket.ack({ type: 'reaction.add', room_id: roomId, message_id: sent.id, emoji: '👍' });
    expect(first.message).toMatchObject({ reactions: [{ emoji: '👍', count: 1, me: true }] });
    const event = await watcher.next((f) => f.type === 'reaction.updated');
    expect(event).toMatchObject({
      seq: sent.seq + 1,
      user_id: 'f-alice',
      emoji: '👍',
      action: 'added',
      message: { reactions: [{ emoji: '👍', count: 1 }] },
    });
    expect((event.message as { reactions: Array<Record<string, unknown>> }).reactions[0]).not.toHaveProperty('me');

    const twice = await aliceSocket.ack({ type: 'reaction.add', room_id: roomId, message_id: sent.id, emoji: '👍' });
    expect(twice.message).toMatchObject({ reactions: [{ emoji: '👍', count: 1, me: true }] });
    const byBob = await api(rest(1), 'PUT', `/v1/rooms/${roomId}/messages/${sent.id}/reactions/${encodeURIComponent('👍')}`, {
      token: bob,
    });
    expect(byBob.body).toMatchObject({ reactions: [{ emoji: '👍', count: 2, me: true }] });
    await api(rest(1), 'PUT', `/v1/rooms/${roomId}/messages/${sent.id}/reactions/${encodeURIComponent(':tada:')}`, { token: bob });
    const history = await api<{ items: Array<{ reactions: unknown }> }>(rest(), 'GET', `/v1/rooms/${roomId}/messages`, { token: carol });
    expect(history.body.items[0]?.reactions).toEqual([
      { emoji: '👍', count: 2, me: false },
      { emoji: ':tada:', count: 1, me: false },
    ]);
    const removed = await api(rest(), 'DELETE', `/v1/rooms/${roomId}/messages/${sent.id}/reactions/${encodeURIComponent('👍')}`, {
      token: bob,
    });
    expect(removed.body).toMatchObject({
      reactions: [
        { emoji: '👍', count: 1, me: false },
        { emoji: ':tada:', count: 1, me: true },
      ],
    });
    // Events so far: 👍 alice, 👍 bob, :tada: bob, remove 👍 bob; the duplicate add made none.
    await watcher.next((f) => f.type === 'reaction.updated' && f.action === 'removed');
    expect(
      watcher
        .events(roomId)
        .filter((f) => f.type === 'reaction.updated')
        .map((f) => f.seq),
    ).toEqual([2, 3, 4, 5].map((n) => sent.seq + n - 1));
    await Promise.all([watcher.close(), aliceSocket.close()]);
  });

  it('rejects an unknown emoji format and reactions from outsiders', async () => {
    const roomId = await room();
    const sent = (await send(alice, roomId, {})).body as { id: string };
    const bad = await api(rest(), 'PUT', `/v1/rooms/${roomId}/messages/${sent.id}/reactions/${encodeURIComponent('<b>hi</b>')}`, {
      token: bob,
    });
    expect(bad).toMatchObject({ status: 400, body: { code: 'invalid' } });
    const socket = await TestSocket.connect(stack.gateway(0).wsUrl, bob);
    expect(await socket.request({ type: 'reaction.add', room_id: roomId, message_id: sent.id, emoji: 'smile' })).toMatchObject({
      type: 'error',
      code: 'invalid',
    });
    const outsider = await api(rest(), 'PUT', `/v1/rooms/${roomId}/messages/${sent.id}/reactions/${encodeURIComponent('👍')}`, {
      token: mintToken('f-out'),
    });
    expect(outsider.status).toBe(404);
    const history = await api<{ items: Array<{ reactions: unknown[] }> }>(rest(), 'GET', `/v1/rooms/${roomId}/messages`, { token: alice });
    expect(history.body.items[0]?.reactions).toEqual([]);
    await socket.close();
  });
});

describe('replies and mentions', () => {
  it('accepts a reply to a message of the same room and mentions of members', async () => {
    const roomId = await room();
    const parent = (await send(alice, roomId, { body: 'question?' })).body as { id: string };
    const reply = await send(bob, roomId, { body: '@Alice answer', reply_to: parent.id, mentions: ['f-alice', 'f-alice'] });
    expect(reply).toMatchObject({ status: 201, body: { reply_to: parent.id, mentions: ['f-alice'] } });
  });

  it('rejects a reply into another room and a mention of a non-member, storing nothing', async () => {
    const roomId = await room();
    const elsewhere = await room();
    const foreign = (await send(alice, elsewhere, {})).body as { id: string };
    const crossReply = await send(alice, roomId, { reply_to: foreign.id });
    expect(crossReply).toMatchObject({ status: 400, body: { code: 'invalid', details: [{ path: 'reply_to' }] } });
    const mention = await send(alice, roomId, { mentions: ['f-bob', 'f-stranger'] });
    expect(mention).toMatchObject({
      status: 400,
      body: { code: 'invalid', details: [{ path: 'mentions.1', message: 'f-stranger is not a member' }] },
    });
    const history = await api<{ items: unknown[] }>(rest(), 'GET', `/v1/rooms/${roomId}/messages`, { token: alice });
    expect(history.body.items).toEqual([]);
  });
});
