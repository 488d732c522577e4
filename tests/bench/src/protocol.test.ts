import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { openClient } from './protocol.js';

interface SendFrame {
  type: string;
  id: string;
  client_msg_id: string;
}

/** The gateway greets a socket whose token it accepted; the client waits for it. */
const HELLO = { type: 'hello', data: {} };
let server: WebSocketServer | undefined;

afterEach(() => {
  server?.close();
  server = undefined;
});

/** A chat gateway stand-in that greets each socket and answers each frame with `answer` (given its index among them). */
async function fakeGateway(answer: (frame: SendFrame, index: number) => object) {
  const frames: SendFrame[] = [];
  server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  server.on('connection', (ws) => {
    ws.send(JSON.stringify(HELLO));
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as SendFrame;
      frames.push(frame);
      ws.send(JSON.stringify(answer(frame, frames.length - 1)));
    });
  });
  await new Promise((resolve) => server?.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `ws://127.0.0.1:${port}`, frames };
}

/** Refuses the first `refusals` sends with `rate_limited`, then acks; records when each frame came and until when sends were refused. */
async function refusingGateway(refusals: number, retryAfterMs: number) {
  const timings: Array<{ at: number; refusedUntil: number }> = [];
  let refusedUntil = 0;
  const gateway = await fakeGateway((frame, index) => {
    timings.push({ at: Date.now(), refusedUntil });
    if (index >= refusals) return { type: 'ack', id: frame.id, data: {} };
    refusedUntil = Date.now() + retryAfterMs;
    return { type: 'error', id: frame.id, code: 'rate_limited', message: 'slow down', retry_after_ms: retryAfterMs };
  });
  return { ...gateway, timings };
}

describe('the bench chat client', () => {
  it('obeys rate_limited: sends nothing until retry_after_ms has passed, then the same message again', async () => {
    const gateway = await refusingGateway(2, 40);
    const client = await openClient('chat', gateway.url, 'token', '127.0.0.1');
    try {
      await client.send('room-1', 'hello', 'key-1');
      expect(gateway.frames.map((frame) => [frame.type, frame.client_msg_id])).toEqual([
        ['message.send', 'key-1'],
        ['message.send', 'key-1'],
        ['message.send', 'key-1'],
      ]);
      // Timers may fire a millisecond early; a client that did not wait would resend within a few.
      for (const { at, refusedUntil } of gateway.timings) expect(at).toBeGreaterThanOrEqual(refusedUntil - 2);
      expect(client.refusalsWaitedOut).toBe(2);
    } finally {
      client.close();
    }
  });

  it('gives up with the error code on any other refusal', async () => {
    const gateway = await fakeGateway((frame) => ({ type: 'error', id: frame.id, code: 'forbidden', message: 'no' }));
    const client = await openClient('chat', gateway.url, 'token', '127.0.0.1');
    try {
      await expect(client.send('room-1', 'hello', 'key-1')).rejects.toThrow('forbidden');
      expect(client.refusalsWaitedOut).toBe(0);
    } finally {
      client.close();
    }
  });
});
