import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../support/http.js';
import { TestSocket } from '../support/socket-client.js';
import { mintToken, TestStack } from '../support/test-stack.js';

// A slow refill (0.5/s) keeps the arithmetic exact within a test: the burst is what is spendable.
const stack = new TestStack({
  gateways: 2,
  env: {
    RATE_LIMIT_SENDS_PER_S: '0.5',
    RATE_LIMIT_SENDS_BURST: '5',
    RATE_LIMIT_REACTIONS_PER_S: '0.5',
    RATE_LIMIT_REACTIONS_BURST: '3',
    RATE_LIMIT_CLOSE_AFTER: '4',
  },
});
const rest = (i = 0) => stack.gateway(i).httpUrl;

beforeAll(() => stack.start());
afterAll(() => stack.stop());

async function room(owner: string): Promise<string> {
  return (await api(rest(), 'POST', '/v1/rooms', { token: owner, body: { kind: 'group', title: 'Limits', member_ids: [] } })).body
    .id as string;
}

async function history(token: string, roomId: string): Promise<unknown[]> {
  return (await api<{ items: unknown[] }>(rest(), 'GET', `/v1/rooms/${roomId}/messages?limit=100`, { token })).body.items;
}

describe('rate limits', () => {
  it('shares one send bucket per user across socket, REST and gateways, and stores nothing rejected', async () => {
    const token = mintToken('l-sender');
    const roomId = await room(token);
    const socket = await TestSocket.connect(stack.gateway(1).wsUrl, token);
    const viaSocket = await Promise.all(
      [0, 1, 2].map((i) => socket.request({ type: 'message.send', room_id: roomId, client_msg_id: `s${i}`, body: 'x' })),
    );
    expect(viaSocket.map((f) => f.type)).toEqual(['ack', 'ack', 'ack']);
    const viaRest = [];
    for (let i = 0; i < 3; i++) {
      viaRest.push(await api(rest(i % 2), 'POST', `/v1/rooms/${roomId}/messages`, { token, body: { client_msg_id: `r${i}`, body: 'x' } }));
    }
    expect(viaRest.map((r) => r.status)).toEqual([201, 201, 429]);
    const limited = viaRest[2];
    expect(limited?.body).toMatchObject({ code: 'rate_limited', retry_after_ms: expect.any(Number) });
    expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const overSocket = await socket.request({ type: 'message.send', room_id: roomId, client_msg_id: 's-over', body: 'x' });
    expect(overSocket).toMatchObject({ type: 'error', code: 'rate_limited' });
    expect(overSocket.retry_after_ms).toBeGreaterThan(0);
    expect(await history(token, roomId)).toHaveLength(5);
    // Another user's bucket is untouched.
    const other = mintToken('l-other');
    expect(
      (await api(rest(), 'POST', `/v1/rooms/${await room(other)}/messages`, { token: other, body: { client_msg_id: 'o', body: 'x' } }))
        .status,
    ).toBe(201);
    await socket.close();
  });

  it('limits reactions in their own bucket', async () => {
    const token = mintToken('l-reactor');
    const roomId = await room(token);
    const message = (await api(rest(), 'POST', `/v1/rooms/${roomId}/messages`, { token, body: { client_msg_id: 'm', body: 'x' } }))
      .body as { id: string };
    const statuses = [];
    for (const emoji of ['👍', '🎉', '😀', '🙏']) {
      statuses.push(
        (await api(rest(), 'PUT', `/v1/rooms/${roomId}/messages/${message.id}/reactions/${encodeURIComponent(emoji)}`, { token })).status,
      );
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
  });

  it('closes a socket that keeps sending after being told to slow down with 4008', async () => {
    const token = mintToken('l-hammer');
    const roomId = await room(token);
    const socket = await TestSocket.connect(stack.gateway(0).wsUrl, token);
    const answers: string[] = [];
    for (let i = 0; i < 9; i++) {
      const answer = await socket.request({ type: 'message.send', room_id: roomId, client_msg_id: `h${i}`, body: 'x' }).catch(() => null);
      if (!answer) break;
      answers.push(answer.type === 'ack' ? 'ack' : String(answer.code));
    }
    expect(answers).toEqual(['ack', 'ack', 'ack', 'ack', 'ack', 'rate_limited', 'rate_limited', 'rate_limited', 'rate_limited']);
    socket.send({ type: 'message.send', room_id: roomId, client_msg_id: 'h-last', body: 'x' });
    expect((await socket.closed).code).toBe(4008);
    expect(await history(token, roomId)).toHaveLength(5);
  });
});
