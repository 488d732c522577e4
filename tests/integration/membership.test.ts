import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../support/http.js';
import { TestSocket } from '../support/socket-client.js';
import { mintToken, TestStack } from '../support/test-stack.js';

const stack = new TestStack({ gateways: 2 });
const tokens = {
  owner: mintToken('own', { name: 'Olivia Owner' }),
  admin: mintToken('adm', { name: 'Adam Admin' }),
  member: mintToken('mem', { name: 'Mia Member' }),
  target: mintToken('tgt', { name: 'Tom Target' }),
  outsider: mintToken('out'),
  service: mintToken('host-app', { roles: ['service'] }),
  moderator: mintToken('mod', { roles: ['moderator'] }),
};
type Actor = keyof typeof tokens;
const rest = (i = 0) => stack.gateway(i).httpUrl;

beforeAll(() => stack.start());
afterAll(() => stack.stop());

/** A group with an owner, an admin and two plain members. */
async function freshGroup(title = 'Cleaning crew'): Promise<string> {
  const created = await api(rest(), 'POST', '/v1/rooms', {
    token: tokens.owner,
    body: { kind: 'group', title, member_ids: ['adm', 'mem', 'tgt'] },
  });
  expect(created.status).toBe(201);
  const roomId = created.body.id as string;
  const promoted = await api(rest(), 'PATCH', `/v1/rooms/${roomId}/members/adm`, { token: tokens.owner, body: { role: 'admin' } });
  expect(promoted.body).toMatchObject({ user_id: 'adm', role: 'admin' });
  return roomId;
}

const actions: Record<string, (roomId: string, token: string) => Promise<number>> = {
  'get room': async (roomId, token) => (await api(rest(), 'GET', `/v1/rooms/${roomId}`, { token })).status,
  'list members': async (roomId, token) => (await api(rest(), 'GET', `/v1/rooms/${roomId}/members`, { token })).status,
  rename: async (roomId, token) => (await api(rest(), 'PATCH', `/v1/rooms/${roomId}`, { token, body: { title: 'Renamed' } })).status,
  'add members': async (roomId, token) =>
    (await api(rest(), 'POST', `/v1/rooms/${roomId}/members`, { token, body: { member_ids: ['newbie'] } })).status,
  'change a role': async (roomId, token) =>
    (await api(rest(), 'PATCH', `/v1/rooms/${roomId}/members/tgt`, { token, body: { role: 'admin' } })).status,
  'remove a member': async (roomId, token) => (await api(rest(), 'DELETE', `/v1/rooms/${roomId}/members/tgt`, { token })).status,
  send: async (roomId, token) =>
    (await api(rest(), 'POST', `/v1/rooms/${roomId}/messages`, { token, body: { client_msg_id: `m-${Math.random()}`, body: 'hi' } }))
      .status,
  'read up to 0': async (roomId, token) => (await api(rest(), 'POST', `/v1/rooms/${roomId}/read`, { token, body: { seq: 0 } })).status,
};

// Expected status per actor: owner, admin, member, outsider, service token, moderator (not members).
const matrix: Record<string, Record<Actor, number>> = {
  'get room': { owner: 200, admin: 200, member: 200, target: 200, outsider: 404, service: 404, moderator: 404 },
  'list members': { owner: 200, admin: 200, member: 200, target: 200, outsider: 404, service: 404, moderator: 404 },
  rename: { owner: 200, admin: 200, member: 403, target: 403, outsider: 404, service: 404, moderator: 404 },
  'add members': { owner: 200, admin: 200, member: 403, target: 403, outsider: 404, service: 404, moderator: 404 },
  'change a role': { owner: 200, admin: 403, member: 403, target: 403, outsider: 404, service: 404, moderator: 404 },
  'remove a member': { owner: 204, admin: 204, member: 403, target: 204, outsider: 404, service: 404, moderator: 404 },
  send: { owner: 201, admin: 201, member: 201, target: 201, outsider: 404, service: 404, moderator: 404 },
  'read up to 0': { owner: 200, admin: 200, member: 200, target: 200, outsider: 404, service: 404, moderator: 404 },
};

describe('authorization matrix (group room)', () => {
  const cells = Object.entries(matrix).flatMap(([action, byActor]) =>
    Object.entries(byActor).map(([actor, status]) => [action, actor as Actor, status] as const),
  );
  it.each(cells)('%s by %s → %i', async (action, actor, status) => {
    const roomId = await freshGroup();
    const run = actions[action];
    if (!run) throw new Error(`no action ${action}`);
    expect(await run(roomId, tokens[actor])).toBe(status);
  });

  it('changes nothing when an action is refused', async () => {
    const roomId = await freshGroup('Unchanged');
    expect(await actions.rename?.(roomId, tokens.member)).toBe(403);
    expect(await actions['remove a member']?.(roomId, tokens.member)).toBe(403);
    const room = await api(rest(), 'GET', `/v1/rooms/${roomId}`, { token: tokens.owner });
    expect(room.body).toMatchObject({ title: 'Unchanged', member_count: 4 });
  });
});

describe('group rules', () => {
  it('hands ownership to the longest-standing admin, else member, when the last owner leaves', async () => {
    const roomId = await freshGroup();
    expect((await api(rest(), 'DELETE', `/v1/rooms/${roomId}/members/own`, { token: tokens.owner })).status).toBe(204);
    const members = await api<{ items: Array<{ user_id: string; role: string }> }>(rest(), 'GET', `/v1/rooms/${roomId}/members`, {
      token: tokens.admin,
    });
    expect(members.body.items).toEqual([
      expect.objectContaining({ user_id: 'adm', role: 'owner' }),
      expect.objectContaining({ user_id: 'mem', role: 'member' }),
      expect.objectContaining({ user_id: 'tgt', role: 'member' }),
    ]);
    await api(rest(), 'DELETE', `/v1/rooms/${roomId}/members/adm`, { token: tokens.admin });
    const after = await api<{ items: Array<{ user_id: string; role: string }> }>(rest(), 'GET', `/v1/rooms/${roomId}/members`, {
      token: tokens.member,
    });
    expect(after.body.items.find((m) => m.role === 'owner')?.user_id).toBe('mem');
  });

  it('lists members with names, roles, read cursors and join times', async () => {
    const roomId = await freshGroup();
    const members = await api<{ items: Array<Record<string, unknown>> }>(rest(), 'GET', `/v1/rooms/${roomId}/members`, {
      token: tokens.member,
    });
    expect(members.body.items[0]).toMatchObject({ user_id: 'own', name: 'Olivia Owner', role: 'owner', last_read_seq: 0 });
    expect(typeof members.body.items[0]?.joined_at).toBe('string');
  });

  it('never gives a direct room a third member, and a direct room cannot be left', async () => {
    const direct = await api(rest(), 'POST', '/v1/rooms', { token: tokens.owner, body: { kind: 'direct', user_id: 'mem' } });
    const roomId = direct.body.id as string;
    const add = await api(rest(), 'POST', `/v1/rooms/${roomId}/members`, { token: tokens.owner, body: { member_ids: ['tgt'] } });
    expect(add).toMatchObject({ status: 400, body: { code: 'invalid' } });
    expect((await api(rest(), 'DELETE', `/v1/rooms/${roomId}/members/own`, { token: tokens.owner })).status).toBe(403);
    expect((await api(rest(), 'GET', `/v1/rooms/${roomId}`, { token: tokens.owner })).body).toMatchObject({
      member_count: 2,
      title: 'Mia Member',
    });
  });

  it.each([
    ['duplicate member ids', 'POST', 'members', { member_ids: ['x', 'x'] }],
    ['an empty member list', 'POST', 'members', { member_ids: [] }],
    ['an invalid role', 'PATCH', 'members/tgt', { role: 'king' }],
    ['a title over the limit', 'PATCH', '', { title: 'x'.repeat(201) }],
    ['a seq beyond the last seq', 'POST', 'read', { seq: 99 }],
    ['an unknown notify level', 'PATCH', 'membership', { notify: 'sometimes' }],
    ['an empty settings body', 'PATCH', 'membership', {}],
  ])('rejects %s with invalid and changes nothing', async (_, method, path, body) => {
    const roomId = await freshGroup('Stable');
    const before = await api(rest(), 'GET', `/v1/rooms/${roomId}/members`, { token: tokens.owner });
    const response = await api(rest(), method, `/v1/rooms/${roomId}${path ? `/${path}` : ''}`, { token: tokens.owner, body });
    expect(response).toMatchObject({ status: 400, body: { code: 'invalid' } });
    expect((await api(rest(), 'GET', `/v1/rooms/${roomId}/members`, { token: tokens.owner })).body).toEqual(before.body);
    expect((await api(rest(), 'GET', `/v1/rooms/${roomId}`, { token: tokens.owner })).body).toMatchObject({
      title: 'Stable',
      me: { last_read_seq: 0, notify: 'all' },
    });
  });
});

describe('my membership settings', () => {
  it('mutes, sets the notify level and archives; archived rooms leave the default list', async () => {
    const roomId = await freshGroup('Quiet please');
    const until = new Date(Date.now() + 3_600_000).toISOString();
    const updated = await api(rest(), 'PATCH', `/v1/rooms/${roomId}/membership`, {
      token: tokens.member,
      body: { muted_until: until, notify: 'mentions', archived: true },
    });
    expect(updated.body).toMatchObject({ me: { muted_until: until, notify: 'mentions', archived: true } });
    type Rooms = { items: Array<{ id: string }> };
    const visible = await api<Rooms>(rest(), 'GET', '/v1/rooms?limit=100', { token: tokens.member });
    expect(visible.body.items.map((r) => r.id)).not.toContain(roomId);
    const archived = await api<Rooms>(rest(), 'GET', '/v1/rooms?archived=true&limit=100', { token: tokens.member });
    expect(archived.body.items.map((r) => r.id)).toContain(roomId);
    // Only the caller's own membership changed.
    expect((await api(rest(), 'GET', `/v1/rooms/${roomId}`, { token: tokens.owner })).body).toMatchObject({
      me: { notify: 'all', archived: false },
    });
  });
});

describe('context rooms', () => {
  it('ensures one room per host object with exactly the given members, for service tokens only', async () => {
    const path = '/v1/contexts/trip/T-1001/room';
    const first = await api(rest(), 'PUT', path, { token: tokens.service, body: { title: 'Trip to Lisbon', member_ids: ['mem', 'tgt'] } });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      kind: 'context',
      context: { type: 'trip', id: 'T-1001' },
      title: 'Trip to Lisbon',
      member_count: 2,
    });
    const again = await api(rest(), 'PUT', path, { token: tokens.service, body: { member_ids: ['mem', 'adm'] } });
    expect(again).toMatchObject({ status: 200, body: { id: first.body.id, member_count: 2 } });
    const roomId = first.body.id as string;
    expect((await api(rest(), 'GET', `/v1/rooms/${roomId}`, { token: tokens.target })).status).toBe(404);
    expect((await api(rest(), 'GET', `/v1/rooms/${roomId}`, { token: tokens.admin })).status).toBe(200);
    // Users cannot change a host object's membership or name; the service can rename it.
    expect((await api(rest(), 'POST', `/v1/rooms/${roomId}/members`, { token: tokens.admin, body: { member_ids: ['out'] } })).status).toBe(
      403,
    );
    expect((await api(rest(), 'DELETE', `/v1/rooms/${roomId}/members/adm`, { token: tokens.admin })).status).toBe(403);
    expect((await api(rest(), 'PATCH', `/v1/rooms/${roomId}`, { token: tokens.admin, body: { title: 'x' } })).status).toBe(403);
    expect((await api(rest(), 'PATCH', `/v1/rooms/${roomId}`, { token: tokens.service, body: { title: 'Lisbon, May' } })).status).toBe(200);
    expect((await api(rest(), 'PUT', path, { token: tokens.owner, body: { member_ids: [] } })).status).toBe(403);
    const badType = await api(rest(), 'PUT', '/v1/contexts/Trip!/1/room', { token: tokens.service, body: { member_ids: [] } });
    expect(badType).toMatchObject({ status: 400, body: { code: 'invalid' } });
  });

  it('is idempotent under concurrent ensures', async () => {
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        api(rest(i % 2), 'PUT', '/v1/contexts/task/K-77/room', {
          token: tokens.service,
          body: { title: 'Fix the boiler', member_ids: ['mem', 'tgt'] },
        }),
      ),
    );
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    expect(answers.every((a) => a.body.member_count === 2)).toBe(true);
  });
});

describe('membership events', () => {
  it('announces renames and additions, and cuts a removed member off at once on every gateway', async () => {
    const roomId = await freshGroup('Events');
    const owner = await TestSocket.connect(stack.gateway(0).wsUrl, tokens.owner);
    const member = await TestSocket.connect(stack.gateway(1).wsUrl, tokens.member);
    const target = await TestSocket.connect(stack.gateway(1).wsUrl, tokens.target);
    for (const socket of [owner, member, target]) await socket.ack({ type: 'subscribe', room_id: roomId });

    await api(rest(1), 'PATCH', `/v1/rooms/${roomId}`, { token: tokens.admin, body: { title: 'Events, renamed' } });
    expect(await member.next((f) => f.type === 'room.updated')).toMatchObject({ room_id: roomId, room: { title: 'Events, renamed' } });
    await api(rest(), 'POST', `/v1/rooms/${roomId}/members`, { token: tokens.owner, body: { member_ids: ['newbie'] } });
    expect(await owner.next((f) => f.type === 'member.added')).toMatchObject({ room_id: roomId, user_id: 'newbie' });

    expect((await api(rest(), 'DELETE', `/v1/rooms/${roomId}/members/tgt`, { token: tokens.owner })).status).toBe(204);
    expect(await owner.next((f) => f.type === 'member.removed', 3000)).toMatchObject({ user_id: 'tgt' });
    expect(await target.next((f) => f.type === 'member.removed')).toMatchObject({ user_id: 'tgt' });
    await owner.ack({ type: 'message.send', room_id: roomId, client_msg_id: 'after-removal', body: 'not for tgt' });
    // `member` shares tgt's gateway: once it has the message, that gateway has fanned it out.
    await member.next((f) => f.type === 'message.created');
    expect(target.frames.filter((f) => f.type === 'message.created')).toEqual([]);
    expect((await api(rest(1), 'GET', `/v1/rooms/${roomId}`, { token: tokens.target })).status).toBe(404);
    const resubscribe = await target.request({ type: 'subscribe', room_id: roomId });
    expect(resubscribe).toMatchObject({ type: 'error', code: 'not_found' });
    await Promise.all([owner.close(), member.close(), target.close()]);
  });

  it('lets a member added while the room is open on a gateway subscribe there at once, with who is online', async () => {
    const roomId = await freshGroup('Late joiner');
    // The owner's subscribe makes gateway 0 hold the room's member list.
    const owner = await TestSocket.connect(stack.gateway(0).wsUrl, tokens.owner);
    await owner.ack({ type: 'subscribe', room_id: roomId });
    const outsider = await TestSocket.connect(stack.gateway(0).wsUrl, tokens.outsider);
    expect(await outsider.request({ type: 'subscribe', room_id: roomId })).toMatchObject({ type: 'error', code: 'not_found' });
    // Added through the other gateway; the subscribe need not wait for the member signal.
    const added = await api(rest(1), 'POST', `/v1/rooms/${roomId}/members`, { token: tokens.owner, body: { member_ids: ['out'] } });
    expect(added.status).toBe(200);
    const ack = await outsider.ack({ type: 'subscribe', room_id: roomId });
    expect(ack).toMatchObject({ room_id: roomId, last_seq: 0 });
    expect(ack.online).toEqual(expect.arrayContaining(['own']));
    expect(ack.online).not.toContain('mem');
    await owner.ack({ type: 'message.send', room_id: roomId, client_msg_id: 'welcome-late', body: 'welcome' });
    expect(await outsider.next((f) => f.type === 'message.created')).toMatchObject({ message: { body: 'welcome' } });
    await Promise.all([owner.close(), outsider.close()]);
  });
});
