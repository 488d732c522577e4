import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../support/http.js';
import { mintToken, TestStack } from '../support/test-stack.js';

const stack = new TestStack({ gateways: 1 });
const rest = () => stack.gateway().httpUrl;
const alice = mintToken('s-alice');
const bob = mintToken('s-bob');
type Page = { items: Array<{ body: string; room_id: string }>; next_cursor: string | null };

beforeAll(() => stack.start());
afterAll(() => stack.stop());

async function room(owner: string, members: string[]): Promise<string> {
  return (await api(rest(), 'POST', '/v1/rooms', { token: owner, body: { kind: 'group', title: 'S', member_ids: members } })).body
    .id as string;
}
async function say(token: string, roomId: string, body: string) {
  return (await api(rest(), 'POST', `/v1/rooms/${roomId}/messages`, { token, body: { client_msg_id: `${body}-${Math.random()}`, body } }))
    .body as { id: string };
}
const search = (token: string, query: string) => api<Page>(rest(), 'GET', `/v1/search/messages?${query}`, { token });

describe('search', () => {
  it('finds whole and partial words in my rooms only, newest first, never deleted messages', async () => {
    const shared = await room(alice, ['s-bob']);
    const alicesOnly = await room(alice, []);
    const bobsOnly = await room(bob, []);
    await say(alice, shared, 'The boiler in flat 12 is leaking');
    await say(bob, shared, 'Plumber booked for the boiler tomorrow');
    const gone = await say(alice, shared, 'boiler password is hunter2');
    await say(alice, alicesOnly, 'Private note about the boiler');
    await say(bob, bobsOnly, 'Bob alone: boiler');
    await api(rest(), 'DELETE', `/v1/rooms/${shared}/messages/${gone.id}`, { token: alice });

    const whole = await search(alice, 'q=boiler');
    expect(whole.body.items.map((m) => m.body)).toEqual([
      'Private note about the boiler',
      'Plumber booked for the boiler tomorrow',
      'The boiler in flat 12 is leaking',
    ]);
    const partial = await search(alice, 'q=plumb');
    expect(partial.body.items.map((m) => m.body)).toEqual(['Plumber booked for the boiler tomorrow']);
    const caseless = await search(bob, 'q=LEAK');
    expect(caseless.body.items.map((m) => m.body)).toEqual(['The boiler in flat 12 is leaking']);
    const oneRoom = await search(alice, `q=boiler&room_id=${alicesOnly}`);
    expect(oneRoom.body.items.map((m) => m.room_id)).toEqual([alicesOnly]);
    expect((await search(alice, `q=boiler&room_id=${bobsOnly}`)).status).toBe(404);
    expect((await search(alice, 'q=hunter2')).body.items).toEqual([]);
    expect((await search(alice, 'q=100%25')).body.items).toEqual([]);
  });

  it('matches queries under 3 characters as whole words only, never as substrings', async () => {
    const roomId = await room(alice, []);
    await say(alice, roomId, 'ok see you at 9');
    await say(alice, roomId, 'this is a token that looks bookish');
    const short = await search(alice, `q=ok&room_id=${roomId}`);
    expect(short.status).toBe(200);
    // "ok" as a word; "token" and "bookish" contain it but a 2-character substring scan is not run.
    expect(short.body.items.map((m) => m.body)).toEqual(['ok see you at 9']);
    const three = await search(alice, `q=ook&room_id=${roomId}`);
    expect(three.body.items.map((m) => m.body)).toEqual(['this is a token that looks bookish']);
  });

  it('paginates with a cursor and rejects bad queries', async () => {
    const roomId = await room(alice, []);
    for (let i = 1; i <= 5; i++) await say(alice, roomId, `invoice number ${i}`);
    const first = await search(alice, `q=invoice&room_id=${roomId}&limit=2`);
    expect(first.body.items.map((m) => m.body)).toEqual(['invoice number 5', 'invoice number 4']);
    const second = await search(alice, `q=invoice&room_id=${roomId}&limit=2&cursor=${first.body.next_cursor}`);
    expect(second.body.items.map((m) => m.body)).toEqual(['invoice number 3', 'invoice number 2']);
    const third = await search(alice, `q=invoice&room_id=${roomId}&limit=2&cursor=${second.body.next_cursor}`);
    expect(third.body).toMatchObject({ items: [{ body: 'invoice number 1' }], next_cursor: null });
    expect((await search(alice, 'q=%20%20')).body).toMatchObject({ code: 'invalid' });
    expect((await search(alice, '')).status).toBe(400);
    expect((await search(alice, `q=${'x'.repeat(201)}`)).status).toBe(400);
    expect((await search(alice, 'q=x&cursor=nope')).status).toBe(400);
  });
});
