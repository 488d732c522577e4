import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../support/http.js';
import { TestSocket } from '../support/socket-client.js';
import { mintToken, TestStack } from '../support/test-stack.js';

const stack = new TestStack({ gateways: 1, env: { ALLOWED_ORIGINS: 'https://chat.example.com' } });
const alice = mintToken('alice', { name: 'Alice' });
const bob = mintToken('bob', { name: 'Bob' });

beforeAll(() => stack.start());
afterAll(() => stack.stop());

const ws = () => stack.gateway().wsUrl;

async function expectClosedWithoutHello(socket: TestSocket, code: number): Promise<void> {
  const closed = await socket.closed;
  expect(closed.code).toBe(code);
  expect(socket.frames.filter((f) => f.type === 'hello')).toEqual([]);
}

describe('socket authentication', () => {
  it('greets a valid token with hello', async () => {
    const socket = await TestSocket.open(`${ws()}/v1/ws?token=${alice}`);
    const hello = await socket.next((f) => f.type === 'hello');
    expect(hello).toMatchObject({ type: 'hello', user_id: 'alice' });
    expect(hello.heartbeat_ms).toBeGreaterThan(0);
    await socket.close();
  });

  it('accepts the token in an Authorization header', async () => {
    const socket = await TestSocket.open(`${ws()}/v1/ws`, { headers: { authorization: `Bearer ${bob}` } });
    expect(await socket.next((f) => f.type === 'hello')).toMatchObject({ user_id: 'bob' });
    await socket.close();
  });

  it.each([
    ['no token', ''],
    ['garbage', '?token=not-a-jwt'],
    ['a wrong signature', `?token=${mintToken('alice', { secret: 'another-secret-of-sufficient-length-000' })}`],
    ['an expired token', `?token=${mintToken('alice', { expiresIn: -10 })}`],
    [
      'alg none',
      `?token=${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'alice', exp: 9999999999 })).toString('base64url')}.`,
    ],
  ])('opens and closes at once with 4001 for %s', async (_, query) => {
    const socket = await TestSocket.open(`${ws()}/v1/ws${query}`);
    await expectClosedWithoutHello(socket, 4001);
  });

  it('refuses a browser origin outside ALLOWED_ORIGINS with 403 and accepts a listed one or none', async () => {
    await expect(TestSocket.open(`${ws()}/v1/ws?token=${alice}`, { headers: { origin: 'https://evil.example' } })).rejects.toThrow(
      /HTTP 403/,
    );
    const listed = await TestSocket.open(`${ws()}/v1/ws?token=${alice}`, { headers: { origin: 'https://chat.example.com' } });
    await listed.next((f) => f.type === 'hello');
    await listed.close();
  });
});

describe('frames', () => {
  it('answers malformed frames with invalid and keeps the socket usable', async () => {
    const socket = await TestSocket.connect(ws(), alice);
    socket.send('this is not json');
    expect(await socket.next((f) => f.type === 'error')).toMatchObject({ code: 'invalid', id: null, message: 'frame is not valid JSON' });
    const unknown = await socket.request({ type: 'launch.rockets' });
    expect(unknown).toMatchObject({ type: 'error', code: 'invalid' });
    const missing = await socket.request({ type: 'subscribe' });
    expect(missing).toMatchObject({ type: 'error', code: 'invalid', details: [expect.objectContaining({ path: 'room_id' })] });
    socket.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await socket.next((f) => f.type === 'error')).toMatchObject({ code: 'invalid', message: 'frames must be JSON text' });
    expect(await socket.request({ type: 'ping' })).toMatchObject({ type: 'ack', data: {} });
    expect(socket.frames.some((f) => f.type === 'pong')).toBe(true);
    await socket.close();
  });

  it('closes the socket with 1009 when a frame is over the size limit', async () => {
    const socket = await TestSocket.connect(ws(), alice);
    socket.send({ type: 'ping', pad: 'x'.repeat(70 * 1024) });
    expect((await socket.closed).code).toBe(1009);
  });
});

describe('compatibility path of the earlier system', () => {
  it('opens /ws/chat/{room_id}/ already subscribed, and closes with 4003 for a room the user may not see', async () => {
    const created = await api(stack.gateway().httpUrl, 'POST', '/v1/rooms', { token: alice, body: { kind: 'direct', user_id: 'bob' } });
    const roomId = created.body.id as string;
    const legacy = await TestSocket.open(`${ws()}/ws/chat/${roomId}/?token=${bob}`);
    expect(await legacy.next((f) => f.type === 'ack')).toMatchObject({ data: { room_id: roomId, last_seq: 0 } });
    await api(stack.gateway().httpUrl, 'POST', `/v1/rooms/${roomId}/messages`, {
      token: alice,
      body: { client_msg_id: 'legacy-1', body: 'hi' },
    });
    expect(await legacy.next((f) => f.type === 'message.created')).toMatchObject({ room_id: roomId, seq: 1 });
    await legacy.close();

    const outsider = await TestSocket.open(`${ws()}/ws/chat/${roomId}/?token=${mintToken('mallory')}`);
    expect((await outsider.closed).code).toBe(4003);
    const malformed = await TestSocket.open(`${ws()}/ws/chat/not-a-room/?token=${bob}`);
    expect((await malformed.closed).code).toBe(4003);
  });
});
