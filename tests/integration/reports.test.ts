import { ChatClient, memoryOutbox } from '@chat/shared/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventReceiver } from '../support/event-receiver.js';
import { api } from '../support/http.js';
import { mintToken, TestStack } from '../support/test-stack.js';

/** DESIGN 10.3 reports and 10.4 `message.reported`, against real processes. */
const receiver = new EventReceiver();
let stack: TestStack;
const tokens = {
  owner: mintToken('r-own', { name: 'Owner' }),
  guest: mintToken('r-guest', { name: 'Guest' }),
  pest: mintToken('r-pest', { name: 'Pest' }),
  outsider: mintToken('r-out'),
  staff: mintToken('r-staff', { roles: ['staff'] }),
  moderator: mintToken('r-mod', { roles: ['moderator'] }),
  service: mintToken('r-host', { roles: ['service'] }),
};
const rest = () => stack.gateway().httpUrl;
let n = 0;
const key = () => `r-${Date.now()}-${n++}`;

beforeAll(async () => {
  await receiver.start();
  stack = new TestStack({
    gateways: 1,
    notifier: {
      EVENTS_WEBHOOK_URL: receiver.url,
      EVENTS_WEBHOOK_SECRET: 'reports-test-secret-0123456789',
      EVENTS_WEBHOOK_TYPES: 'message.reported',
    },
  });
  await stack.start();
});
afterAll(async () => {
  await stack?.stop();
  await receiver.stop();
});

async function roomWithMessage(body = 'buy cheap watches'): Promise<{ roomId: string; messageId: string }> {
  const room = await api(rest(), 'POST', '/v1/rooms', {
    token: tokens.owner,
    body: { kind: 'group', title: 'Lobby', member_ids: ['r-guest', 'r-pest'] },
  });
  const sent = await api(rest(), 'POST', `/v1/rooms/${room.body.id}/messages`, {
    token: tokens.pest,
    body: { client_msg_id: key(), body },
  });
  expect(sent.status).toBe(201);
  return { roomId: room.body.id as string, messageId: sent.body.id as string };
}

const reportsOf = (token: string, query = '') => api(rest(), 'GET', `/v1/reports${query}`, { token });

describe('reports', () => {
  it('stores a report once per reporter, with the message as it was, and tells the host', async () => {
    const { roomId, messageId } = await roomWithMessage();
    const path = `/v1/rooms/${roomId}/messages/${messageId}/reports`;
    const created = await api(rest(), 'POST', path, { token: tokens.guest, body: { reason: 'spam', note: 'third time today' } });
    expect(created).toMatchObject({
      status: 201,
      body: {
        id: expect.any(String),
        room_id: roomId,
        message_id: messageId,
        reporter_id: 'r-guest',
        reason: 'spam',
        note: 'third time today',
        status: 'open',
        created_at: expect.any(String),
      },
    });
    const again = await api(rest(), 'POST', path, { token: tokens.guest, body: { reason: 'other' } });
    expect(again).toEqual({ ...again, status: 200, body: created.body });

    // The sender edits the message afterwards: the moderator still judges what was reported.
    await api(rest(), 'PATCH', `/v1/rooms/${roomId}/messages/${messageId}`, { token: tokens.pest, body: { body: 'hello' } });
    const open = await reportsOf(tokens.moderator);
    expect(open.status).toBe(200);
    const listed = (open.body.items as Array<{ id: string; message: { body: string } }>).find((r) => r.id === created.body.id);
    expect(listed).toMatchObject({ ...created.body, message: { id: messageId, body: 'buy cheap watches', sender_id: 'r-pest' } });

    await receiver.until(
      () => receiver.delivered().some((e) => e.body.type === 'message.reported' && e.body.room_id === roomId),
      30_000,
      () => JSON.stringify(receiver.delivered().map((e) => e.body.type)),
    );
    const event = receiver.delivered().find((e) => e.body.room_id === roomId);
    expect(event?.body).toMatchObject({
      id: `evt_report_${created.body.id}`,
      type: 'message.reported',
      room_id: roomId,
      data: { report: created.body },
    });
    expect(event?.body.seq).toBeUndefined();
    // The repeat made no second event.
    expect(receiver.delivered().filter((e) => e.body.room_id === roomId && e.webhookId !== event?.webhookId)).toEqual([]);
  });

  it('refuses bad input with a clear error and stores nothing', async () => {
    const { roomId, messageId } = await roomWithMessage();
    const path = `/v1/rooms/${roomId}/messages/${messageId}/reports`;
    const refusals: Array<[string, Record<string, unknown>, number, string]> = [
      [tokens.guest, { reason: 'rude' }, 400, 'invalid'],
      [tokens.guest, {}, 400, 'invalid'],
      [tokens.guest, { reason: 'other', note: 'x'.repeat(1001) }, 400, 'invalid'],
      [tokens.pest, { reason: 'spam' }, 422, 'invalid'],
      [tokens.outsider, { reason: 'spam' }, 404, 'not_found'],
    ];
    for (const [token, body, status, code] of refusals) {
      expect(await api(rest(), 'POST', path, { token, body }), JSON.stringify(body)).toMatchObject({ status, body: { code } });
    }
    const unknown = `/v1/rooms/${roomId}/messages/00000000-0000-4000-8000-000000000000/reports`;
    expect(await api(rest(), 'POST', unknown, { token: tokens.guest, body: { reason: 'spam' } })).toMatchObject({
      status: 404,
      body: { code: 'not_found' },
    });
    expect(
      await api(rest(), 'POST', `/v1/rooms/${roomId}/messages/nope/reports`, { token: tokens.guest, body: { reason: 'spam' } }),
    ).toMatchObject({
      status: 400,
      body: { code: 'invalid' },
    });
    await api(rest(), 'DELETE', `/v1/rooms/${roomId}/messages/${messageId}`, { token: tokens.pest });
    expect(await api(rest(), 'POST', path, { token: tokens.guest, body: { reason: 'spam' } })).toMatchObject({
      status: 409,
      body: { code: 'conflict' },
    });
    const all = await reportsOf(tokens.moderator, '?limit=100');
    expect((all.body.items as Array<{ room_id: string }>).filter((r) => r.room_id === roomId)).toEqual([]);
  });

  it('hides from a late joiner of a joined-history room what was said before they joined', async () => {
    const room = await api(rest(), 'POST', '/v1/rooms', {
      token: tokens.owner,
      body: { kind: 'group', title: 'Task 7', member_ids: ['r-pest'], history_visibility: 'joined' },
    });
    const roomId = room.body.id as string;
    const early = await api(rest(), 'POST', `/v1/rooms/${roomId}/messages`, {
      token: tokens.pest,
      body: { client_msg_id: key(), body: 'before' },
    });
    expect(
      (await api(rest(), 'POST', `/v1/rooms/${roomId}/members`, { token: tokens.owner, body: { member_ids: ['r-guest'] } })).status,
    ).toBe(200);
    const late = await api(rest(), 'POST', `/v1/rooms/${roomId}/messages`, {
      token: tokens.pest,
      body: { client_msg_id: key(), body: 'after' },
    });
    expect(
      await api(rest(), 'POST', `/v1/rooms/${roomId}/messages/${early.body.id}/reports`, { token: tokens.guest, body: { reason: 'spam' } }),
    ).toMatchObject({ status: 404, body: { code: 'not_found' } });
    expect(
      (await api(rest(), 'POST', `/v1/rooms/${roomId}/messages/${late.body.id}/reports`, { token: tokens.guest, body: { reason: 'spam' } }))
        .status,
    ).toBe(201);
  });

  it('lets only moderator and service tokens list, page and handle reports', async () => {
    const { roomId, messageId } = await roomWithMessage('one');
    const second = await api(rest(), 'POST', `/v1/rooms/${roomId}/messages`, {
      token: tokens.pest,
      body: { client_msg_id: key(), body: 'two' },
    });
    const ids: string[] = [];
    for (const id of [messageId, second.body.id as string]) {
      const made = await api(rest(), 'POST', `/v1/rooms/${roomId}/messages/${id}/reports`, {
        token: tokens.owner,
        body: { reason: 'inappropriate' },
      });
      ids.push(made.body.id as string);
    }
    for (const token of [tokens.guest, tokens.staff, tokens.owner]) {
      expect(await reportsOf(token)).toMatchObject({ status: 403, body: { code: 'forbidden' } });
      expect(await api(rest(), 'PATCH', `/v1/reports/${ids[0]}`, { token, body: { status: 'resolved' } })).toMatchObject({
        status: 403,
        body: { code: 'forbidden' },
      });
    }

    // Page through the open queue two at a time: ours appear in order, once each.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await reportsOf(tokens.service, `?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      seen.push(...(page.body.items as Array<{ id: string }>).map((r) => r.id));
      cursor = page.body.next_cursor as string | null;
    } while (cursor);
    expect(seen.filter((id) => ids.includes(id))).toEqual(ids);
    expect(new Set(seen).size).toBe(seen.length);

    expect(await api(rest(), 'PATCH', `/v1/reports/${ids[0]}`, { token: tokens.moderator, body: { status: 'resolved' } })).toMatchObject({
      status: 200,
      body: { id: ids[0], status: 'resolved' },
    });
    expect(await api(rest(), 'PATCH', `/v1/reports/${ids[1]}`, { token: tokens.service, body: { status: 'dismissed' } })).toMatchObject({
      status: 200,
      body: { id: ids[1], status: 'dismissed' },
    });
    const byStatus = async (status: string) =>
      ((await reportsOf(tokens.moderator, `?status=${status}&limit=100`)).body.items as Array<{ id: string }>).map((r) => r.id);
    expect(await byStatus('resolved')).toContain(ids[0]);
    expect(await byStatus('dismissed')).toContain(ids[1]);
    expect(await byStatus('open')).not.toContain(ids[0]);

    const bad: Array<[string, string, Record<string, unknown> | undefined, number]> = [
      ['PATCH', `/v1/reports/${ids[0]}`, { status: 'open' }, 400],
      ['PATCH', `/v1/reports/${ids[0]}`, { status: 'closed' }, 400],
      ['PATCH', '/v1/reports/00000000-0000-4000-8000-000000000000', { status: 'resolved' }, 404],
      ['PATCH', '/v1/reports/nope', { status: 'resolved' }, 400],
      ['GET', '/v1/reports?status=pending', undefined, 400],
      ['GET', '/v1/reports?cursor=bogus', undefined, 400],
      ['GET', '/v1/reports?limit=0', undefined, 400],
    ];
    for (const [method, path, body, status] of bad) {
      expect((await api(rest(), method, path, { token: tokens.moderator, body })).status, `${method} ${path}`).toBe(status);
    }
    expect(await byStatus('resolved')).toContain(ids[0]);
  });

  it('is reachable through the SDK, with blocks (REST only: no socket is opened)', async () => {
    const { roomId, messageId } = await roomWithMessage('sdk');
    const client = (token: string) => new ChatClient({ url: stack.gateway().wsUrl, httpUrl: rest(), token, outbox: memoryOutbox() });
    const guest = client(tokens.guest);
    const moderator = client(tokens.moderator);
    const report = await guest.report(roomId, messageId, 'harassment', 'see thread');
    expect(report).toMatchObject({ reason: 'harassment', note: 'see thread', status: 'open' });
    expect(await guest.report(roomId, messageId, 'spam')).toEqual(report);
    await expect(guest.reports()).rejects.toMatchObject({ code: 'forbidden' });
    const queue = await moderator.reports({ limit: 100 });
    expect(queue.items.find((r) => r.id === report.id)).toMatchObject({ message: { id: messageId, body: 'sdk' } });
    expect(await moderator.updateReport(report.id, 'resolved')).toMatchObject({ id: report.id, status: 'resolved' });

    expect(await guest.block('r-pest')).toMatchObject({ user_id: 'r-pest' });
    expect((await guest.blocks()).items.map((b) => b.user_id)).toEqual(['r-pest']);
    await guest.unblock('r-pest');
    expect((await guest.blocks()).items).toEqual([]);
    await expect(guest.block('r-guest')).rejects.toMatchObject({ code: 'invalid' });
  });
});
