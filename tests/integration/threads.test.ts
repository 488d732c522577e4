import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.js';
import { FakeWebhook, type RecordedPush } from '../support/fake-push.js';
import { api } from '../support/http.js';
import { TestSocket } from '../support/socket-client.js';
import { mintToken, TestStack } from '../support/test-stack.js';

/** Threads (DESIGN 10.5): replies, summaries, the history filters, unread, replay, pushes. */
const webhook = new FakeWebhook();
let stack: TestStack;
const http = () => stack.gateway().httpUrl;
const wsUrl = () => stack.gateway().wsUrl;
const tokens = new Map<string, string>();
const token = (user: string) => {
  if (!tokens.has(user)) tokens.set(user, mintToken(user, { name: user.toUpperCase() }));
  return tokens.get(user) as string;
};

type Message = {
  id: string;
  seq: number;
  sender_id: string;
  thread_root_id: string | null;
  thread?: { reply_count: number; last_reply_at: string; participant_ids: string[] } | null;
  created_at: string;
};

beforeAll(async () => {
  await webhook.start();
  stack = new TestStack({
    gateways: 1,
    notifier: {
      NOTIFY_COALESCE_MS: '300',
      NOTIFY_BACKOFF_MS: '100',
      NOTIFY_JOB_LOCK_MS: '2000',
      NOTIFY_EVENT_ACK_WAIT_MS: '2000',
      NOTIFY_WEBHOOK_URL: webhook.url,
      NOTIFY_WEBHOOK_SECRET: 'webhook-secret-for-tests-0123456789',
    },
  });
  await stack.start();
});
afterAll(async () => {
  await stack.stop();
  await webhook.stop();
});

let rooms = 0;
async function group(owner: string, members: string[]): Promise<string> {
  rooms++;
  const created = await api(http(), 'POST', '/v1/rooms', {
    token: token(owner),
    body: { kind: 'group', title: `Thread ${rooms}`, member_ids: members },
  });
  expect(created.status).toBe(201);
  return created.body.id as string;
}

let keys = 0;
async function send(roomId: string, user: string, body: string, extra: Record<string, unknown> = {}) {
  keys++;
  return api<Message & Record<string, unknown>>(http(), 'POST', `/v1/rooms/${roomId}/messages`, {
    token: token(user),
    body: { client_msg_id: `t-${keys}`, body, ...extra },
  });
}

async function sent(roomId: string, user: string, body: string, extra: Record<string, unknown> = {}): Promise<Message> {
  const answer = await send(roomId, user, body, extra);
  expect(answer.status).toBe(201);
  return answer.body;
}

async function history(roomId: string, user: string, query = ''): Promise<Message[]> {
  const page = await api<{ items: Message[] }>(http(), 'GET', `/v1/rooms/${roomId}/messages${query}`, { token: token(user) });
  expect(page.status).toBe(200);
  return page.body.items;
}

describe('thread replies', () => {
  it('stores replies with thread_root_id, summarises them on the root, and filters history by thread and top level', async () => {
    const roomId = await group('ann', ['ben', 'cat']);
    const subscriber = await TestSocket.connect(wsUrl(), token('cat'));
    await subscriber.ack({ type: 'subscribe', room_id: roomId });
    const root = await sent(roomId, 'ann', 'the root');
    expect(root).toMatchObject({ thread_root_id: null, thread: null });
    const before = await sent(roomId, 'ben', 'a top-level message');

    // Replies over REST and over the socket (where sends are batched).
    const first = await sent(roomId, 'ben', 'first reply', { thread_root_id: root.id });
    expect(first).toMatchObject({ thread_root_id: root.id, thread: null });
    const socket = await TestSocket.connect(wsUrl(), token('cat'));
    const replies = await Promise.all(
      [1, 2, 3].map((i) =>
        socket.ack({
          type: 'message.send',
          room_id: roomId,
          client_msg_id: `cat-reply-${i}`,
          body: `cat reply ${i}`,
          thread_root_id: root.id,
        }),
      ),
    );
    for (const ack of replies) expect(ack.message).toMatchObject({ thread_root_id: root.id, sender_id: 'cat', thread: null });
    const last = await sent(roomId, 'ann', 'root author replies', { thread_root_id: root.id });
    const after = await sent(roomId, 'cat', 'top level again');

    // Events carry the reply with its root and no summary (clients count).
    const event = await subscriber.next((f) => f.type === 'message.created' && (f.message as Message).id === first.id);
    expect(event.message).toMatchObject({ thread_root_id: root.id });
    expect(event.message).not.toHaveProperty('thread');

    const all = await history(roomId, 'ben');
    expect(all).toHaveLength(8);
    const summary = all.find((m) => m.id === root.id)?.thread;
    expect(summary).toMatchObject({ reply_count: 5, last_reply_at: last.created_at, participant_ids: ['ben', 'cat', 'ann'] });
    expect(all.find((m) => m.id === before.id)?.thread).toBeNull();

    const thread = await history(roomId, 'ben', `?thread_root_id=${root.id}`);
    // Oldest first; the three socket replies were sent at once, so their order among themselves is the server's.
    expect(thread).toHaveLength(5);
    expect(thread[0]?.id).toBe(first.id);
    expect(thread.at(-1)?.id).toBe(last.id);
    expect(
      thread
        .slice(1, 4)
        .map((m) => (m as Message & { body: string }).body)
        .sort(),
    ).toEqual(['cat reply 1', 'cat reply 2', 'cat reply 3']);
    expect(thread.map((m) => m.seq)).toEqual([...thread.map((m) => m.seq)].sort((a, b) => a - b));
    expect(thread.every((m) => m.thread_root_id === root.id)).toBe(true);
    const paged = await history(roomId, 'ben', `?thread_root_id=${root.id}&limit=2`);
    expect(paged.map((m) => m.id)).toEqual(thread.slice(-2).map((m) => m.id));

    const top = await history(roomId, 'ben', '?top_level=true');
    expect(top.map((m) => m.id)).toEqual([root.id, before.id, after.id]);
    expect(top[0]?.thread).toMatchObject({ reply_count: 5 });

    // The root in a single answer (an edit's ack) carries its summary; a deleted reply no longer counts.
    await api(http(), 'DELETE', `/v1/rooms/${roomId}/messages/${first.id}`, { token: token('ben') });
    const edited = await api<Message>(http(), 'PATCH', `/v1/rooms/${roomId}/messages/${root.id}`, {
      token: token('ann'),
      body: { body: 'the root, edited' },
    });
    expect(edited.body.thread).toMatchObject({ reply_count: 4, participant_ids: ['cat', 'ann'] });

    const both = await api(http(), 'GET', `/v1/rooms/${roomId}/messages?thread_root_id=${root.id}&top_level=true`, { token: token('ben') });
    expect(both.status).toBe(400);
    await Promise.all([socket.close(), subscriber.close()]);
  });

  it('refuses a root of another room, a reply as root, or no message at all with 422, over REST and the socket', async () => {
    const roomId = await group('ann', ['ben']);
    const other = await group('ann', ['ben']);
    const root = await sent(roomId, 'ann', 'root');
    const reply = await sent(roomId, 'ben', 'reply', { thread_root_id: root.id });
    const elsewhere = await sent(other, 'ann', 'root elsewhere');
    for (const bad of [elsewhere.id, reply.id, '00000000-0000-4000-8000-000000000000']) {
      const refused = await send(roomId, 'ben', 'nope', { thread_root_id: bad });
      expect(refused.status).toBe(422);
      expect(refused.body).toMatchObject({ code: 'invalid', details: [expect.objectContaining({ path: 'thread_root_id' })] });
    }
    // A refused send in a batch fails alone; the others in it are stored.
    const socket = await TestSocket.connect(wsUrl(), token('ben'));
    const answers = await Promise.all([
      socket.request({ type: 'message.send', room_id: roomId, client_msg_id: 'b-ok-1', body: 'ok', thread_root_id: root.id }),
      socket.request({ type: 'message.send', room_id: roomId, client_msg_id: 'b-bad', body: 'bad', thread_root_id: reply.id }),
      socket.request({ type: 'message.send', room_id: roomId, client_msg_id: 'b-ok-2', body: 'plain' }),
    ]);
    expect(answers.map((a) => a.type)).toEqual(['ack', 'error', 'ack']);
    expect(answers[1]).toMatchObject({ code: 'invalid', details: [expect.objectContaining({ path: 'thread_root_id' })] });
    // Seqs stay gapless: nothing was taken for the refused sends.
    expect((await history(roomId, 'ben')).map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    await socket.close();
  });

  it('does not let a late joiner of a joined-history room reply to a root from before they joined', async () => {
    const created = await api(http(), 'POST', '/v1/rooms', {
      token: token('ann'),
      body: { kind: 'group', title: 'Joined history', member_ids: ['ben'], history_visibility: 'joined' },
    });
    expect(created.status).toBe(201);
    const roomId = created.body.id as string;
    const early = await sent(roomId, 'ann', 'before dan joined');
    expect(
      (await api(http(), 'POST', `/v1/rooms/${roomId}/members`, { token: token('ann'), body: { member_ids: ['dan'] } })).status,
    ).toBeLessThan(300);
    const late = await sent(roomId, 'ann', 'after dan joined');
    const refused = await send(roomId, 'dan', 'reply to what I cannot see', { thread_root_id: early.id });
    expect(refused.status).toBe(422);
    expect(await sent(roomId, 'dan', 'reply to what I see', { thread_root_id: late.id })).toMatchObject({ thread_root_id: late.id });
    expect(await sent(roomId, 'ben', 'ben saw it all', { thread_root_id: early.id })).toMatchObject({ thread_root_id: early.id });
  });

  it('counts replies as unread, finds them in search, and replays them by seq', async () => {
    const roomId = await group('ann', ['ben']);
    const root = await sent(roomId, 'ann', 'root for unread');
    const socket = await TestSocket.connect(wsUrl(), token('ben'));
    await socket.ack({ type: 'subscribe', room_id: roomId });
    await socket.close();
    await sent(roomId, 'ann', 'a quokka in the thread', { thread_root_id: root.id });
    await eventually(async () => {
      const unread = await api<{ rooms: Array<{ room_id: string; unread_count: number }> }>(http(), 'GET', '/v1/me/unread', {
        token: token('ben'),
      });
      expect(unread.body.rooms.find((r) => r.room_id === roomId)?.unread_count).toBe(2);
    });
    const found = await api<{ items: Message[] }>(http(), 'GET', `/v1/search/messages?q=quokka&room_id=${roomId}`, { token: token('ben') });
    expect(found.body.items.map((m) => m.thread_root_id)).toEqual([root.id]);
    const resumed = await TestSocket.connect(wsUrl(), token('ben'));
    await resumed.ack({ type: 'subscribe', room_id: roomId, since_seq: 1 });
    expect(await resumed.next((f) => f.type === 'message.created' && f.seq === 2)).toMatchObject({ message: { thread_root_id: root.id } });
    await resumed.close();
  });
});

describe('thread pushes', () => {
  const toDevice = (device: string) => (p: RecordedPush) => p.body.device_token === device;
  const pushedIds = (device: string) => webhook.matching(toDevice(device)).flatMap((p) => p.body.message_ids as string[]);

  it("reach the root's author and the thread's repliers as if mentioned, not other mentions-only members", async () => {
    const [author, replier, bystander, sender] = ['p-author', 'p-replier', 'p-bystander', 'p-sender'];
    const roomId = await group(sender, [author, replier, bystander]);
    for (const user of [author, replier, bystander]) {
      expect((await api(http(), 'PUT', `/v1/devices/dev-${user}`, { token: token(user), body: { platform: 'webhook' } })).status).toBe(201);
      expect(
        (await api(http(), 'PATCH', `/v1/rooms/${roomId}/membership`, { token: token(user), body: { notify: 'mentions' } })).status,
      ).toBe(200);
    }
    const root = await sent(roomId, author, 'who cleans room 12?');
    const early = await sent(roomId, replier, 'I can', { thread_root_id: root.id });
    const reply = await sent(roomId, sender, 'thanks, go ahead', { thread_root_id: root.id });
    await sent(roomId, sender, 'unrelated chatter');
    // Decisions follow stream order: once the mention after them is pushed, the replies were decided.
    const mention = await sent(roomId, sender, `@${bystander} and you?`, { mentions: [bystander] });
    await webhook.waitFor(toDevice(`dev-${bystander}`));
    await eventually(async () => {
      expect(new Set(pushedIds(`dev-${author}`))).toEqual(new Set([early.id, reply.id]));
      expect(pushedIds(`dev-${replier}`)).toEqual([reply.id]);
    }, 20_000);
    expect(pushedIds(`dev-${bystander}`)).toEqual([mention.id]);
  });
});
