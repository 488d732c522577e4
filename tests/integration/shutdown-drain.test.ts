import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../support/http.js';
import { TestSocket } from '../support/socket-client.js';
import { mintToken, TestStack } from '../support/test-stack.js';

const SOCKETS = 24;
const stack = new TestStack({ gateways: 2, env: { SHUTDOWN_DRAIN_WINDOW_MS: '600', WS_MAX_BUFFERED_BYTES: String(256 * 1024 * 1024) } });

beforeAll(() => stack.start());
afterAll(() => stack.stop());

describe('gateway drain on SIGTERM', () => {
  it('sends every socket a 1012 close frame under load and exits only after they were written', async () => {
    const owner = mintToken('d-owner');
    const members = Array.from({ length: SOCKETS }, (_, i) => `d-member-${i}`);
    const roomId = (
      await api(stack.gateway(1).httpUrl, 'POST', '/v1/rooms', {
        token: owner,
        body: { kind: 'group', title: 'Drain', member_ids: members },
      })
    ).body.id as string;
    const sockets = await Promise.all(
      members.map(async (member) => {
        const socket = await TestSocket.connect(stack.gateway(0).wsUrl, mintToken(member));
        await socket.ack({ type: 'subscribe', room_id: roomId });
        return socket;
      }),
    );
    const closes = sockets.map((s) => s.closed);

    // Load: a sender on the other gateway keeps the room busy (about 2 KB per event, 10 in flight),
    // and every socket keeps writing requests of its own, until the drain ends.
    const sender = await TestSocket.connect(stack.gateway(1).wsUrl, owner);
    let draining = false;
    let sent = 0;
    const body = 'x'.repeat(2000);
    const sending = Promise.all(
      Array.from({ length: 10 }, async () => {
        while (!draining) await sender.request({ type: 'message.send', room_id: roomId, client_msg_id: `m${sent++}`, body });
      }),
    );
    for (const socket of sockets) {
      void (async () => {
        while (socket.ws.readyState === socket.ws.OPEN) await socket.request({ type: 'ping' }).catch(() => undefined);
      })();
    }
    await sockets[0]?.next((f) => f.type === 'message.created' && Number(f.seq) >= 20);
    // Slow readers: half the sockets stop reading, so the gateway holds a backlog for them when it
    // is told to stop; they read again once it is. Their close frames must not be lost behind it.
    const slow = sockets.filter((_, i) => i % 2 === 0);
    const tcp = (socket: TestSocket) => (socket.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    for (const socket of slow) tcp(socket).pause();
    await sockets[1]?.next((f) => f.type === 'message.created' && Number(f.seq) >= 200, 30_000);

    const exited = stack.gateway(0).process.stop('SIGTERM');
    for (const socket of slow) tcp(socket).resume();
    const codes = (await Promise.all(closes)).map((c) => c.code);
    draining = true;
    expect(await exited).toBe(0);
    expect(codes).toEqual(Array(SOCKETS).fill(1012));
    await sending;
    expect(sent).toBeGreaterThan(20);
    await sender.close();
  });
});
