import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../support/http.js';
import { mintToken, TestStack } from '../support/test-stack.js';

const stack = new TestStack({ gateways: 2 });
const alice = mintToken('alice', { name: 'Alice' });
const bob = mintToken('bob', { name: 'Bob' });
const url = () => stack.gateway(0).httpUrl;

beforeAll(() => stack.start());
afterAll(() => stack.stop());

describe('REST rooms', () => {
  it('answers problem+json 401 without or with a bad token', async () => {
    const none = await api(url(), 'GET', '/v1/rooms');
    expect(none.status).toBe(401);
    expect(none.contentType).toContain('application/problem+json');
    expect(none.body).toMatchObject({ status: 401, code: 'unauthenticated', title: 'Unauthenticated' });
    const bad = await api(url(), 'GET', '/v1/rooms', { token: 'nope' });
    expect(bad).toMatchObject({ status: 401, body: { code: 'unauthenticated' } });
  });

  it('creates a direct room once: 201, then 200 with the same room from either side', async () => {
    const first = await api(url(), 'POST', '/v1/rooms', { token: alice, body: { kind: 'direct', user_id: 'bob' } });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ kind: 'direct', member_count: 2, created_by: 'alice', me: { role: 'member', unread_count: 0 } });
    const again = await api(stack.gateway(1).httpUrl, 'POST', '/v1/rooms', { token: bob, body: { kind: 'direct', user_id: 'alice' } });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    // A direct room is titled with the other person's display name, as they last presented it.
    expect(again.body.title).toBe('Alice');
  });

  it('gives concurrent creates of the same direct room one room', async () => {
    const carol = mintToken('carol');
    const dave = mintToken('dave');
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        api(stack.gateway(i % 2).httpUrl, 'POST', '/v1/rooms', {
          token: i % 2 ? carol : dave,
          body: { kind: 'direct', user_id: i % 2 ? 'dave' : 'carol' },
        }),
      ),
    );
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
  });

  it('creates a group with its creator as owner', async () => {
    const group = await api(url(), 'POST', '/v1/rooms', {
      token: alice,
      body: { kind: 'group', title: ' Cleaning crew ', member_ids: ['bob', 'carol', 'alice'] },
    });
    expect(group.status).toBe(201);
    expect(group.body).toMatchObject({ kind: 'group', title: 'Cleaning crew', member_count: 3, me: { role: 'owner' } });
    const asBob = await api(url(), 'GET', `/v1/rooms/${group.body.id}`, { token: bob });
    expect(asBob).toMatchObject({ status: 200, body: { me: { role: 'member' } } });
  });

  it.each([
    ['an unknown kind', { kind: 'channel' }],
    ['a direct room with yourself', { kind: 'direct', user_id: 'alice' }],
    ['an empty title', { kind: 'group', title: '  ', member_ids: [] }],
    ['a title over the limit', { kind: 'group', title: 'x'.repeat(201), member_ids: [] }],
    ['duplicate member ids', { kind: 'group', title: 'T', member_ids: ['bob', 'bob'] }],
    ['more than 500 member ids', { kind: 'group', title: 'T', member_ids: Array.from({ length: 501 }, (_, i) => `u${i}`) }],
    ['an over-long user id', { kind: 'direct', user_id: 'u'.repeat(129) }],
  ])('rejects %s with invalid and creates nothing', async (_, body) => {
    const before = await api<{ items: unknown[] }>(url(), 'GET', '/v1/rooms?limit=100', { token: alice });
    const response = await api(url(), 'POST', '/v1/rooms', { token: alice, body });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ code: 'invalid' });
    const after = await api<{ items: unknown[] }>(url(), 'GET', '/v1/rooms?limit=100', { token: alice });
    expect(after.body.items).toHaveLength(before.body.items.length);
  });

  it('rejects a malformed JSON body and an oversize body', async () => {
    const malformed = await api(url(), 'POST', '/v1/rooms', { token: alice, rawBody: '{"kind":' });
    expect(malformed).toMatchObject({ status: 400, body: { code: 'invalid' } });
    const huge = await api(url(), 'POST', '/v1/rooms', {
      token: alice,
      rawBody: JSON.stringify({ kind: 'group', title: 'x', pad: 'y'.repeat(70 * 1024) }),
    });
    expect(huge).toMatchObject({ status: 413, body: { code: 'too_large' } });
  });

  it('hides rooms from non-members with 404, and 400s a malformed room id', async () => {
    const room = await api(url(), 'POST', '/v1/rooms', { token: alice, body: { kind: 'group', title: 'Private', member_ids: [] } });
    const outsider = await api(url(), 'GET', `/v1/rooms/${room.body.id}`, { token: bob });
    expect(outsider).toMatchObject({ status: 404, body: { code: 'not_found' } });
    const missing = await api(url(), 'GET', '/v1/rooms/00000000-0000-4000-8000-000000000000', { token: alice });
    expect(missing.status).toBe(404);
    const malformed = await api(url(), 'GET', '/v1/rooms/not-a-uuid', { token: alice });
    expect(malformed).toMatchObject({ status: 400, body: { code: 'invalid' } });
    const noRoute = await api(url(), 'GET', '/v1/nothing-here', { token: alice });
    expect(noRoute).toMatchObject({ status: 404, body: { code: 'not_found' } });
  });

  it('lists my rooms by most recent activity with last message and unread count, paginated', async () => {
    const erin = mintToken('erin', { name: 'Erin' });
    const ids: string[] = [];
    for (const other of ['f1', 'f2', 'f3']) {
      const room = await api(url(), 'POST', '/v1/rooms', { token: erin, body: { kind: 'direct', user_id: other } });
      ids.push(room.body.id as string);
    }
    // Activity in the first room moves it to the top once the projection has seen the message.
    const sent = await api(url(), 'POST', `/v1/rooms/${ids[0]}/messages`, {
      token: mintToken('f1', { name: 'F One' }),
      body: { client_msg_id: 'x', body: 'ping' },
    });
    expect(sent.status).toBe(201);
    type Rooms = {
      items: Array<{ id: string; last_message: { id: string } | null; me: { unread_count: number } }>;
      next_cursor: string | null;
    };
    let list = await api<Rooms>(url(), 'GET', '/v1/rooms', { token: erin });
    for (let attempt = 0; list.body.items[0]?.last_message?.id !== sent.body.id && attempt < 50; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100)); // the projection is eventually consistent
      list = await api<Rooms>(url(), 'GET', '/v1/rooms', { token: erin });
    }
    expect(list.body.items.map((r) => r.id)).toEqual([ids[0], ids[2], ids[1]]);
    expect(list.body.items[0]?.me.unread_count).toBe(1);
    const page1 = await api<Rooms>(url(), 'GET', '/v1/rooms?limit=2', { token: erin });
    expect(page1.body.items.map((r) => r.id)).toEqual([ids[0], ids[2]]);
    const page2 = await api<Rooms>(url(), 'GET', `/v1/rooms?limit=2&cursor=${page1.body.next_cursor}`, { token: erin });
    expect(page2.body).toEqual({ items: [expect.objectContaining({ id: ids[1] })], next_cursor: null });
    const badCursor = await api(url(), 'GET', '/v1/rooms?cursor=zzz', { token: erin });
    expect(badCursor).toMatchObject({ status: 400, body: { code: 'invalid' } });
  });

  it('serves /healthz and /readyz on the public port and /metrics only on the ops port', async () => {
    expect((await api(url(), 'GET', '/healthz')).status).toBe(200);
    expect(await api(url(), 'GET', '/readyz')).toMatchObject({ status: 200, body: { status: 'ready' } });
    expect((await fetch(`${url()}/metrics`)).status).toBe(404);
    const ops = stack.gateway().opsUrl;
    expect((await api(ops, 'GET', '/readyz')).status).toBe(200);
    const metrics = await fetch(`${ops}/metrics`);
    expect(await metrics.text()).toContain('chat_gateway_connections');
  });
});
