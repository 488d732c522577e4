import { createServer } from 'node:net';
import { ChatClient, type Frame, memoryOutbox } from '@chat/shared/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { api } from '../support/http.js';
import { TestSocket } from '../support/socket-client.js';
import { type Gateway, mintToken, TestStack } from '../support/test-stack.js';

const stack = new TestStack({ gateways: 1 });
const alice = mintToken('k-alice', { name: 'Alice' });
const bob = mintToken('k-bob', { name: 'Bob' });
let ports: { http: number; ws: number };
let restartable: Gateway;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const fixedPorts = () => ({ GATEWAY_HTTP_PORT: String(ports.http), GATEWAY_WS_PORT: String(ports.ws) });

beforeAll(async () => {
  await stack.start();
  ports = { http: await freePort(), ws: await freePort() };
  restartable = await stack.startGateway(fixedPorts());
});
afterAll(() => stack.stop());

describe('client SDK against the real stack', () => {
  it('survives a gateway restart mid-conversation: resumes by seq and delivers the offline outbox, exactly once', async () => {
    const roomId = (await api(stack.gateway(0).httpUrl, 'POST', '/v1/rooms', { token: alice, body: { kind: 'direct', user_id: 'k-bob' } }))
      .body.id as string;
    const chat = new ChatClient({
      url: restartable.wsUrl,
      httpUrl: restartable.httpUrl,
      token: alice,
      createSocket: (url) =>
        new WebSocket(url) as unknown as ReturnType<NonNullable<ConstructorParameters<typeof ChatClient>[0]['createSocket']>>,
      outbox: memoryOutbox(),
      backoff: { initialMs: 100, maxMs: 1000 },
    });
    const events: Frame[] = [];
    chat.on('event', (frame) => events.push(frame));
    await chat.connect();
    await chat.subscribe(roomId);

    const bobSocket = await TestSocket.connect(stack.gateway(0).wsUrl, bob);
    await bobSocket.ack({ type: 'subscribe', room_id: roomId });
    const bobSays = (body: string) => bobSocket.ack({ type: 'message.send', room_id: roomId, client_msg_id: body, body });
    await bobSays('before 1');
    await chat.send(roomId, { body: 'alice online' });
    await bobSocket.next((f) => f.type === 'message.created' && (f.message as { body: string }).body === 'alice online');

    // The gateway restarts (SIGTERM: sockets get 1012) while both keep talking.
    const closed = new Promise<number>((resolve) => chat.on('closed', ({ code }) => resolve(code)));
    await restartable.process.stop('SIGTERM');
    expect(await closed).toBe(1012);
    const offline = [chat.send(roomId, { body: 'alice offline 1' }), chat.send(roomId, { body: 'alice offline 2' })];
    expect(offline.map((e) => e.state)).toEqual(['pending', 'pending']);
    await bobSays('while you were away 1');
    await bobSays('while you were away 2');
    restartable = await stack.startGateway(fixedPorts());

    // Everything arrives: bob's missed messages by replay, alice's pending sends from the outbox.
    await new Promise<void>((resolve) => {
      const check = () => {
        if (chat.outbox().every((e) => e.state === 'sent') && events.filter((f) => f.type === 'message.created').length === 6) resolve();
      };
      chat.on('event', check);
      chat.on('outbox', check);
      check();
    });
    const created = events.filter((f) => f.type === 'message.created');
    expect(created.map((f) => f.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(new Set(created.map((f) => (f.message as { id: string }).id)).size).toBe(6);
    expect(created.map((f) => (f.message as { body: string }).body).sort()).toEqual(
      ['before 1', 'alice online', 'alice offline 1', 'alice offline 2', 'while you were away 1', 'while you were away 2'].sort(),
    );
    // Alice's own offline messages kept their order.
    const mine = created.map((f) => (f.message as { body: string }).body).filter((b) => b.startsWith('alice offline'));
    expect(mine).toEqual(['alice offline 1', 'alice offline 2']);
    const history = await api<{ items: Array<{ seq: number }> }>(stack.gateway(0).httpUrl, 'GET', `/v1/rooms/${roomId}/messages`, {
      token: bob,
    });
    expect(history.body.items.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    const unread = await chat.refreshUnread();
    expect(unread.total).toBe(3);
    chat.close();
    await bobSocket.close();
  });
});
