import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../support/http.js';
import { TestSocket } from '../support/socket-client.js';
import { mintToken, TestStack } from '../support/test-stack.js';

/** DESIGN 10.3: per-user blocks, and bans in groups. */
const stack = new TestStack({ gateways: 1 });
const tokens = {
  owner: mintToken('b-own', { name: 'Owner' }),
  admin: mintToken('b-adm', { name: 'Admin' }),
  member: mintToken('b-mem', { name: 'Member' }),
  outsider: mintToken('b-out'),
  staff: mintToken('b-staff', { roles: ['staff'] }),
  moderator: mintToken('b-mod', { roles: ['moderator'] }),
  service: mintToken('b-host', { roles: ['service'] }),
};
type Role = keyof typeof tokens;
/** The group member whose messages the matrix reports. */
const target = mintToken('b-tgt', { name: 'Target' });
const rest = () => stack.gateway().httpUrl;
let n = 0;
const key = () => `b-${Date.now()}-${n++}`;

beforeAll(() => stack.start());
afterAll(() => stack.stop());

async function freshGroup(): Promise<string> {
  const created = await api(rest(), 'POST', '/v1/rooms', {
    token: tokens.owner,
    body: { kind: 'group', title: 'Crew', member_ids: ['b-adm', 'b-mem', 'b-tgt'] },
  });
  const roomId = created.body.id as string;
  expect((await api(rest(), 'PATCH', `/v1/rooms/${roomId}/members/b-adm`, { token: tokens.owner, body: { role: 'admin' } })).status).toBe(
    200,
  );
  return roomId;
}

describe('blocks', () => {
  it('refuses the blocked user a direct room and direct sends, keeps groups flowing, and lists blocks', async () => {
    const guest = mintToken('b-guest');
    const pest = mintToken('b-pest');
    const direct = await api(rest(), 'POST', '/v1/rooms', { token: pest, body: { kind: 'direct', user_id: 'b-guest' } });
    expect(direct.status).toBe(201);
    const roomId = direct.body.id as string;
    // The pest's send path has a cached "allowed" answer before the block.
    const before = await api(rest(), 'POST', `/v1/rooms/${roomId}/messages`, { token: pest, body: { client_msg_id: key(), body: 'hi' } });
    expect(before.status).toBe(201);

    // The pest watches the room: a block must not be announced to them (nor anything else).
    const watcher = await TestSocket.connect(stack.gateway().wsUrl, pest);
    await watcher.ack({ type: 'subscribe', room_id: roomId });

    const blocked = await api(rest(), 'PUT', '/v1/me/blocks/b-pest', { token: guest });
    expect(blocked).toMatchObject({ status: 200, body: { user_id: 'b-pest', blocked_at: expect.any(String) } });
    expect(await api(rest(), 'PUT', '/v1/me/blocks/b-pest', { token: guest })).toMatchObject({ status: 200, body: blocked.body });

    const send = await api(rest(), 'POST', `/v1/rooms/${roomId}/messages`, { token: pest, body: { client_msg_id: key(), body: 'again' } });
    expect(send).toMatchObject({ status: 403, body: { code: 'forbidden' } });
    expect(await api(rest(), 'POST', '/v1/rooms', { token: pest, body: { kind: 'direct', user_id: 'b-guest' } })).toMatchObject({
      status: 403,
      body: { code: 'forbidden' },
    });
    // The blocker can still write, and the pest still reads what is there.
    expect(
      (await api(rest(), 'POST', `/v1/rooms/${roomId}/messages`, { token: guest, body: { client_msg_id: key(), body: 'bye' } })).status,
    ).toBe(201);
    // The first frame the watcher gets after subscribing is that message: the block said nothing.
    const firstAfter = await watcher.next((f) => f.type !== 'ack');
    expect(firstAfter).toMatchObject({ type: 'message.created', message: { body: 'bye' } });
    await watcher.close();
    expect((await api(rest(), 'GET', `/v1/rooms/${roomId}/messages`, { token: pest })).status).toBe(200);
    expect((await api(rest(), 'POST', '/v1/rooms', { token: guest, body: { kind: 'direct', user_id: 'b-pest' } })).status).toBe(200);

    // Groups keep flowing both ways.
    const group = await api(rest(), 'POST', '/v1/rooms', { token: guest, body: { kind: 'group', title: 'G', member_ids: ['b-pest'] } });
    const inGroup = await api(rest(), 'POST', `/v1/rooms/${group.body.id}/messages`, {
      token: pest,
      body: { client_msg_id: key(), body: 'group' },
    });
    expect(inGroup.status).toBe(201);

    const list = await api<{ items: Array<{ user_id: string }> }>(rest(), 'GET', '/v1/me/blocks', { token: guest });
    expect(list.body.items.map((b) => b.user_id)).toEqual(['b-pest']);
    expect((await api(rest(), 'GET', '/v1/me/blocks', { token: pest })).body).toMatchObject({ items: [] });

    expect((await api(rest(), 'DELETE', '/v1/me/blocks/b-pest', { token: guest })).status).toBe(204);
    expect((await api(rest(), 'DELETE', '/v1/me/blocks/b-pest', { token: guest })).status).toBe(204);
    const after = await api(rest(), 'POST', `/v1/rooms/${roomId}/messages`, { token: pest, body: { client_msg_id: key(), body: 'sorry' } });
    expect(after.status).toBe(201);
  });

  it('refuses blocking yourself (422) and invalid ids (400), changing nothing', async () => {
    const me = mintToken('b-self');
    expect(await api(rest(), 'PUT', '/v1/me/blocks/b-self', { token: me })).toMatchObject({ status: 422, body: { code: 'invalid' } });
    expect(await api(rest(), 'PUT', `/v1/me/blocks/${'x'.repeat(129)}`, { token: me })).toMatchObject({
      status: 400,
      body: { code: 'invalid' },
    });
    expect((await api(rest(), 'GET', '/v1/me/blocks', { token: me })).body).toMatchObject({ items: [] });
    expect((await api(rest(), 'PUT', '/v1/me/blocks/someone')).status).toBe(401);
  });
});

describe('bans', () => {
  it('removes the banned member, refuses adding them again (409) until unbanned, and lists bans', async () => {
    const roomId = await freshGroup();
    const banned = await api(rest(), 'PUT', `/v1/rooms/${roomId}/bans/b-tgt`, { token: tokens.admin });
    expect(banned).toMatchObject({ status: 200, body: { user_id: 'b-tgt', banned_by: 'b-adm', banned_at: expect.any(String) } });
    expect((await api(rest(), 'GET', `/v1/rooms/${roomId}`, { token: mintToken('b-tgt') })).status).toBe(404);
    expect((await api(rest(), 'PUT', `/v1/rooms/${roomId}/bans/b-tgt`, { token: tokens.owner })).body).toMatchObject(banned.body);

    const readd = await api(rest(), 'POST', `/v1/rooms/${roomId}/members`, {
      token: tokens.owner,
      body: { member_ids: ['b-new', 'b-tgt'] },
    });
    expect(readd).toMatchObject({ status: 409, body: { code: 'conflict' } });
    const members = await api<{ items: Array<{ user_id: string }> }>(rest(), 'GET', `/v1/rooms/${roomId}/members`, { token: tokens.owner });
    expect(members.body.items.map((m) => m.user_id).sort()).toEqual(['b-adm', 'b-mem', 'b-own']);

    const list = await api<{ items: Array<{ user_id: string }> }>(rest(), 'GET', `/v1/rooms/${roomId}/bans`, { token: tokens.owner });
    expect(list.body.items.map((b) => b.user_id)).toEqual(['b-tgt']);
    expect((await api(rest(), 'DELETE', `/v1/rooms/${roomId}/bans/b-tgt`, { token: tokens.owner })).status).toBe(204);
    expect(
      (await api(rest(), 'POST', `/v1/rooms/${roomId}/members`, { token: tokens.owner, body: { member_ids: ['b-tgt'] } })).status,
    ).toBe(200);

    // A ban needs no membership: an outsider can be kept out in advance.
    expect((await api(rest(), 'PUT', `/v1/rooms/${roomId}/bans/b-later`, { token: tokens.owner })).status).toBe(200);
    expect(
      (await api(rest(), 'POST', `/v1/rooms/${roomId}/members`, { token: tokens.admin, body: { member_ids: ['b-later'] } })).status,
    ).toBe(409);
  });

  it('refuses banning an owner, yourself, or in a direct room, changing nothing', async () => {
    const roomId = await freshGroup();
    const owner = await api(rest(), 'PUT', `/v1/rooms/${roomId}/bans/b-own`, { token: tokens.admin });
    expect(owner).toMatchObject({ status: 422, body: { code: 'invalid', detail: expect.stringContaining('owner') } });
    expect(await api(rest(), 'PUT', `/v1/rooms/${roomId}/bans/b-adm`, { token: tokens.admin })).toMatchObject({ status: 422 });
    expect(await api(rest(), 'PUT', `/v1/rooms/${roomId}/bans/b-adm`, { token: mintToken('b-adm2') })).toMatchObject({ status: 404 });
    const direct = await api(rest(), 'POST', '/v1/rooms', { token: tokens.owner, body: { kind: 'direct', user_id: 'b-mem' } });
    expect(await api(rest(), 'PUT', `/v1/rooms/${direct.body.id}/bans/b-mem`, { token: tokens.owner })).toMatchObject({ status: 403 });
    const room = await api(rest(), 'GET', `/v1/rooms/${roomId}`, { token: tokens.owner });
    expect(room.body).toMatchObject({ member_count: 4 });
    expect((await api(rest(), 'GET', `/v1/rooms/${roomId}/bans`, { token: tokens.owner })).body).toMatchObject({ items: [] });
  });
});

// The new actions × every kind of caller (a group with owner, admin, member; the others are not members).
const actions: Record<string, (roomId: string, token: string) => Promise<number>> = {
  ban: async (roomId, token) => (await api(rest(), 'PUT', `/v1/rooms/${roomId}/bans/b-tgt`, { token })).status,
  unban: async (roomId, token) => (await api(rest(), 'DELETE', `/v1/rooms/${roomId}/bans/b-tgt`, { token })).status,
  'list bans': async (roomId, token) => (await api(rest(), 'GET', `/v1/rooms/${roomId}/bans`, { token })).status,
  'set history visibility': async (roomId, token) =>
    (await api(rest(), 'PATCH', `/v1/rooms/${roomId}`, { token, body: { history_visibility: 'joined' } })).status,
  'report a message': async (roomId, token) => {
    const message = await api(rest(), 'POST', `/v1/rooms/${roomId}/messages`, { token: target, body: { client_msg_id: key(), body: 'x' } });
    return (await api(rest(), 'POST', `/v1/rooms/${roomId}/messages/${message.body.id}/reports`, { token, body: { reason: 'spam' } }))
      .status;
  },
  'list reports': async (_roomId, token) => (await api(rest(), 'GET', '/v1/reports', { token })).status,
  'resolve a report': async (roomId, token) => {
    const message = await api(rest(), 'POST', `/v1/rooms/${roomId}/messages`, { token: target, body: { client_msg_id: key(), body: 'x' } });
    const report = await api(rest(), 'POST', `/v1/rooms/${roomId}/messages/${message.body.id}/reports`, {
      token: tokens.member,
      body: { reason: 'spam' },
    });
    return (await api(rest(), 'PATCH', `/v1/reports/${report.body.id}`, { token, body: { status: 'resolved' } })).status;
  },
  block: async (_roomId, token) => (await api(rest(), 'PUT', '/v1/me/blocks/b-someone', { token })).status,
  'list blocks': async (_roomId, token) => (await api(rest(), 'GET', '/v1/me/blocks', { token })).status,
};
const matrix: Record<string, Record<Role, number>> = {
  ban: { owner: 200, admin: 200, member: 403, outsider: 404, staff: 404, moderator: 404, service: 404 },
  unban: { owner: 204, admin: 204, member: 403, outsider: 404, staff: 404, moderator: 404, service: 404 },
  'list bans': { owner: 200, admin: 200, member: 403, outsider: 404, staff: 404, moderator: 404, service: 404 },
  'set history visibility': { owner: 200, admin: 200, member: 403, outsider: 404, staff: 404, moderator: 404, service: 404 },
  'report a message': { owner: 201, admin: 201, member: 201, outsider: 404, staff: 404, moderator: 404, service: 404 },
  'list reports': { owner: 403, admin: 403, member: 403, outsider: 403, staff: 403, moderator: 200, service: 200 },
  'resolve a report': { owner: 403, admin: 403, member: 403, outsider: 403, staff: 403, moderator: 200, service: 200 },
  block: { owner: 200, admin: 200, member: 200, outsider: 200, staff: 200, moderator: 200, service: 200 },
  'list blocks': { owner: 200, admin: 200, member: 200, outsider: 200, staff: 200, moderator: 200, service: 200 },
};

describe('authorization matrix (blocks, bans, history visibility, reports)', () => {
  const cells = Object.entries(matrix).flatMap(([action, byRole]) =>
    Object.entries(byRole).map(([role, status]) => [action, role as Role, status] as const),
  );
  it.each(cells)('%s by %s → %i', async (action, role, status) => {
    const roomId = await freshGroup();
    expect(await actions[action]?.(roomId, tokens[role])).toBe(status);
  });
});
