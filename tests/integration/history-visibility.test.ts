import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { multipart, pngImage } from '../support/files.js';
import { api } from '../support/http.js';
import { type Frame, TestSocket } from '../support/socket-client.js';
import { mintToken, TestStack } from '../support/test-stack.js';

/** DESIGN 10.3: under `joined` history a late joiner sees only what followed their joining. */
const blobDir = mkdtempSync(join(tmpdir(), 'chat-visibility-'));
const stack = new TestStack({ gateways: 2, env: { ATTACHMENT_DIR: blobDir } });
const alice = mintToken('v-alice', { name: 'Alice' });
const bob = mintToken('v-bob', { name: 'Bob' });
const carol = mintToken('v-carol', { name: 'Carol' });
const service = mintToken('v-host', { roles: ['service'] });
const rest = (i = 0) => stack.gateway(i).httpUrl;
let n = 0;
const key = () => `v-${Date.now()}-${n++}`;

beforeAll(() => stack.start());
afterAll(async () => {
  await stack.stop();
  rmSync(blobDir, { recursive: true, force: true });
});

async function upload(token: string, roomId: string, name: string): Promise<string> {
  const form = multipart('file', name, 'image/png', pngImage(8, 8));
  const response = await fetch(`${rest()}/v1/rooms/${roomId}/attachments`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': form.contentType },
    body: new Uint8Array(form.body),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

async function send(token: string, roomId: string, body: Record<string, unknown>) {
  const sent = await api(rest(), 'POST', `/v1/rooms/${roomId}/messages`, { token, body: { client_msg_id: key(), ...body } });
  expect(sent.status).toBe(201);
  return sent.body as { id: string; seq: number };
}

describe('joined history', () => {
  it('never shows a late joiner a byte of what came before, through any read path', async () => {
    const created = await api(rest(), 'POST', '/v1/rooms', {
      token: alice,
      body: { kind: 'group', title: 'Guest 12', member_ids: ['v-bob'], history_visibility: 'joined' },
    });
    expect(created).toMatchObject({ status: 201, body: { history_visibility: 'joined', me: { visible_from_seq: 0 } } });
    const roomId = created.body.id as string;

    // Before carol: a file, a message with it, a reply, a reaction, a file not yet sent.
    const early = await upload(alice, roomId, 'EARLYFILE-passport.png');
    const m1 = await send(alice, roomId, { body: 'EARLYSECRET one: door code 4711', attachment_ids: [early] });
    const m2 = await send(bob, roomId, { body: 'EARLYSECRET two', reply_to: m1.id });
    expect(
      (await api(rest(), 'PUT', `/v1/rooms/${roomId}/messages/${m2.id}/reactions/${encodeURIComponent('👍')}`, { token: alice })).status,
    ).toBe(200);
    const unsent = await upload(bob, roomId, 'EARLYFILE-unsent.png');

    // Carol joins: her view starts at the room's last seq at that moment (no projection lag).
    expect((await api(rest(), 'POST', `/v1/rooms/${roomId}/members`, { token: alice, body: { member_ids: ['v-carol'] } })).status).toBe(
      200,
    );
    const joinedRoom = await api(rest(1), 'GET', `/v1/rooms/${roomId}`, { token: carol });
    const visibleFrom = (joinedRoom.body.me as { visible_from_seq: number }).visible_from_seq;
    expect(visibleFrom).toBe(3);
    expect(joinedRoom.body).toMatchObject({ history_visibility: 'joined', me: { unread_count: 0 } });

    const seen: string[] = [];
    const socketFrames: string[] = [];
    const read = async (i: number, method: string, path: string, body?: unknown) => {
      const response = await api(rest(i), method, path, { token: carol, body });
      seen.push(JSON.stringify(response.body));
      return response;
    };

    const live = await TestSocket.connect(stack.gateway(1).wsUrl, carol);
    await live.ack({ type: 'subscribe', room_id: roomId });

    // After carol: a reply to an earlier message, an edit and a reaction on earlier ones, a new message.
    const m3 = await send(alice, roomId, { body: 'welcome carol', reply_to: m1.id });
    const edited = await api(rest(), 'PATCH', `/v1/rooms/${roomId}/messages/${m1.id}`, {
      token: alice,
      body: { body: 'EARLYSECRET edited' },
    });
    expect(edited.status).toBe(200);
    expect(
      (await api(rest(), 'PUT', `/v1/rooms/${roomId}/messages/${m2.id}/reactions/${encodeURIComponent('🎉')}`, { token: alice })).status,
    ).toBe(200);
    // An edit of the reply: its event (written by another path than a send) names m1 as well.
    expect(
      (await api(rest(), 'PATCH', `/v1/rooms/${roomId}/messages/${m3.id}`, { token: alice, body: { body: 'welcome carol!' } })).status,
    ).toBe(200);
    const m4 = await send(bob, roomId, { body: 'last one' });
    await live.next((f) => f.type === 'message.created' && (f.message as { id: string }).id === m4.id);
    const liveEvents = live.events(roomId);
    // Live: gapless seqs, earlier messages' events as event.hidden.
    expect(liveEvents.map((f) => [f.type, f.seq])).toEqual([
      ['message.created', m3.seq],
      ['event.hidden', m3.seq + 1],
      ['event.hidden', m3.seq + 2],
      ['message.updated', m3.seq + 3],
      ['message.created', m4.seq],
    ]);
    // The reply to an earlier message arrives without reply_to, created and edited.
    const aboutM3 = (frames: Frame[]) => frames.filter((f) => (f.message as { id?: string } | undefined)?.id === m3.id);
    expect(aboutM3(liveEvents).map((f) => (f.message as { reply_to: string | null }).reply_to)).toEqual([null, null]);

    // Replay from the very start begins where carol joined, with no resync; from another gateway too.
    for (const i of [0, 1]) {
      const replay = await TestSocket.connect(stack.gateway(i).wsUrl, carol);
      const ack = await replay.ack({ type: 'subscribe', room_id: roomId, since_seq: 0 });
      expect(ack.last_seq).toBe(m4.seq);
      await replay.next((f) => f.type === 'message.created' && (f.message as { id: string }).id === m4.id);
      const events = replay.events(roomId);
      expect(events.map((f) => f.seq)).toEqual([m3.seq, m3.seq + 1, m3.seq + 2, m3.seq + 3, m4.seq]);
      expect(aboutM3(events).map((f) => (f.message as { reply_to: string | null }).reply_to)).toEqual([null, null]);
      expect(replay.frames.some((f) => f.type === 'resync')).toBe(false);
      seen.push(...replay.frames.map((f) => JSON.stringify(f)));
      socketFrames.push(...replay.frames.map((f) => JSON.stringify(f)));
      await replay.close();
    }
    seen.push(...live.frames.map((f: Frame) => JSON.stringify(f)));
    socketFrames.push(...live.frames.map((f: Frame) => JSON.stringify(f)));

    // History: only what followed; a reply to an earlier message shows no reply_to.
    const history = await read(0, 'GET', `/v1/rooms/${roomId}/messages`);
    expect((history.body.items as Array<{ id: string; reply_to: string | null }>).map((m) => [m.id, m.reply_to])).toEqual([
      [m3.id, null],
      [m4.id, null],
    ]);
    for (const query of ['after_seq=0', `before_seq=${m3.seq}`, 'before_seq=1000&limit=100', 'after_seq=1']) {
      const page = await read(1, 'GET', `/v1/rooms/${roomId}/messages?${query}`);
      expect((page.body.items as Array<{ seq: number }>).every((m) => m.seq > visibleFrom)).toBe(true);
    }
    // Search, in the room and across rooms.
    for (const path of [
      `/v1/search/messages?q=EARLYSECRET&room_id=${roomId}`,
      '/v1/search/messages?q=EARLYSECRET',
      '/v1/search/messages?q=door',
    ]) {
      expect((await read(0, 'GET', path)).body).toMatchObject({ items: [] });
    }
    // Direct references to earlier messages and files: 404, or invalid for a reply.
    expect((await read(0, 'GET', `/v1/rooms/${roomId}/messages/${m1.id}/receipts`)).status).toBe(404);
    expect((await read(0, 'GET', `/v1/rooms/${roomId}/messages/${m3.id}/receipts`)).status).toBe(200);
    expect((await read(0, 'PUT', `/v1/rooms/${roomId}/messages/${m2.id}/reactions/${encodeURIComponent('👀')}`)).status).toBe(404);
    expect((await read(0, 'DELETE', `/v1/rooms/${roomId}/messages/${m2.id}/reactions/${encodeURIComponent('👍')}`)).status).toBe(404);
    const reply = await read(0, 'POST', `/v1/rooms/${roomId}/messages`, { client_msg_id: key(), body: 'about that', reply_to: m1.id });
    expect(reply).toMatchObject({ status: 400, body: { code: 'invalid' } });
    for (const attachmentId of [early, unsent]) {
      const download = await fetch(`${rest()}/v1/attachments/${attachmentId}`, { headers: { authorization: `Bearer ${carol}` } });
      expect(download.status).toBe(404);
      seen.push(await download.text());
    }
    // Room views and lists carry the last message only as it is now (carol's own view).
    seen.push(JSON.stringify((await read(0, 'GET', '/v1/rooms?limit=100')).body));

    // No frame carol received names the earlier message m1 (she named it herself in REST below).
    expect(
      socketFrames.filter((f) => f.includes(m1.id)),
      'a frame carried the id of an earlier message',
    ).toEqual([]);
    // (Problem answers echo the request path, so ids carol named herself are left out of the check.)
    const everything = seen.map((text) => text.replace(/"instance":"[^"]*"/g, '')).join('\n');
    for (const secret of ['EARLYSECRET', 'EARLYFILE', 'door code', early, unsent, m2.id]) {
      expect(everything.includes(secret), `carol saw ${secret}`).toBe(false);
    }

    // Members who were there all along still see everything.
    const bobs = await api<{ items: Array<{ id: string }> }>(rest(), 'GET', `/v1/rooms/${roomId}/messages`, { token: bob });
    expect(bobs.body.items.map((m) => m.id)).toEqual([m1.id, m2.id, m3.id, m4.id]);
    const bobDownload = await fetch(`${rest()}/v1/attachments/${early}`, { headers: { authorization: `Bearer ${bob}` } });
    expect(bobDownload.status).toBe(200);
    await live.close();
  });

  it('shares the whole history by default, and owners/admins (the service for context rooms) switch it', async () => {
    const created = await api(rest(), 'POST', '/v1/rooms', {
      token: alice,
      body: { kind: 'group', title: 'Shared', member_ids: ['v-bob'] },
    });
    expect(created.body).toMatchObject({ history_visibility: 'shared', me: { visible_from_seq: 0 } });
    const roomId = created.body.id as string;
    const first = await send(alice, roomId, { body: 'before carol' });
    await api(rest(), 'POST', `/v1/rooms/${roomId}/members`, { token: alice, body: { member_ids: ['v-carol'] } });
    const carols = await api<{ items: Array<{ id: string }>; me: unknown }>(rest(), 'GET', `/v1/rooms/${roomId}/messages`, {
      token: carol,
    });
    expect(carols.body.items.map((m) => m.id)).toEqual([first.id]);

    // Plain members may not switch it; bad values change nothing.
    expect((await api(rest(), 'PATCH', `/v1/rooms/${roomId}`, { token: bob, body: { history_visibility: 'joined' } })).status).toBe(403);
    for (const body of [{ history_visibility: 'members' }, {}, { history_visibility: 'joined', kind: 'x' }]) {
      expect(await api(rest(), 'PATCH', `/v1/rooms/${roomId}`, { token: alice, body })).toMatchObject({
        status: 400,
        body: { code: 'invalid' },
      });
    }
    const bad = await api(rest(), 'POST', '/v1/rooms', {
      token: alice,
      body: { kind: 'group', title: 'x', member_ids: [], history_visibility: 'everyone' },
    });
    expect(bad).toMatchObject({ status: 400, body: { code: 'invalid' } });
    expect((await api(rest(), 'GET', `/v1/rooms/${roomId}`, { token: alice })).body).toMatchObject({ history_visibility: 'shared' });

    // The owner switches it: carol, who joined after the first message, stops seeing it at once.
    const socket = await TestSocket.connect(stack.gateway(0).wsUrl, bob);
    await socket.ack({ type: 'subscribe', room_id: roomId });
    const switched = await api(rest(), 'PATCH', `/v1/rooms/${roomId}`, { token: alice, body: { history_visibility: 'joined' } });
    expect(switched).toMatchObject({ status: 200, body: { history_visibility: 'joined' } });
    expect(await socket.next((f) => f.type === 'room.updated')).toMatchObject({ room: { history_visibility: 'joined' } });
    const after = await api<{ items: unknown[]; me: unknown }>(rest(1), 'GET', `/v1/rooms/${roomId}/messages`, { token: carol });
    expect(after.body.items).toEqual([]);
    expect((await api(rest(), 'GET', `/v1/rooms/${roomId}`, { token: carol })).body).toMatchObject({ me: { visible_from_seq: first.seq } });
    await socket.close();

    // Context rooms: set in the PUT body by the service, and changed by it with PATCH.
    const context = await api(rest(), 'PUT', '/v1/contexts/task/V-1/room', {
      token: service,
      body: { member_ids: ['v-alice'], history_visibility: 'joined' },
    });
    expect(context).toMatchObject({ status: 201, body: { history_visibility: 'joined' } });
    const contextId = context.body.id as string;
    expect((await api(rest(), 'PATCH', `/v1/rooms/${contextId}`, { token: alice, body: { history_visibility: 'shared' } })).status).toBe(
      403,
    );
    const shared = await api(rest(), 'PATCH', `/v1/rooms/${contextId}`, { token: service, body: { history_visibility: 'shared' } });
    expect(shared).toMatchObject({ status: 200, body: { history_visibility: 'shared' } });
    const again = await api(rest(), 'PUT', '/v1/contexts/task/V-1/room', {
      token: service,
      body: { member_ids: ['v-alice'], history_visibility: 'joined' },
    });
    expect(again).toMatchObject({ status: 200, body: { history_visibility: 'joined' } });
  });
});
