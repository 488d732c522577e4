import { randomBytes } from 'node:crypto';
import { type Socket, connect as tcpConnect } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { api } from '../support/http.js';
import { TestSocket } from '../support/socket-client.js';
import { type Gateway, mintToken, TestStack } from '../support/test-stack.js';

/**
 * Thousands of sockets against two real gateways, opened, sent to and killed at random points
 * (TCP reset and clean close), mixed with garbage, binary, oversize and half-written frames, slow
 * upgrades and huge headers. Seeded: CHAOS_SEED=<n> replays a run.
 */
const SEED = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);
const SOCKETS = 2000;
const CONCURRENCY = 100;
const USERS = 40;

const stack = new TestStack({ gateways: 2, env: { WS_MAX_FRAME_BYTES: '4096' } });
beforeAll(() => stack.start());
afterAll(() => stack.stop());

/** mulberry32: small, fast, and the same sequence for the same seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Chaos = (gateway: Gateway, random: () => number, index: number) => Promise<void>;

const tokens = Array.from({ length: USERS }, (_, i) => mintToken(`chaos-${i}`));
let roomIds: string[] = [];

function hostPort(gateway: Gateway): { host: string; port: number } {
  const url = new URL(gateway.wsUrl);
  return { host: url.hostname, port: Number(url.port) };
}

/** Opens a socket and resolves once it is open or has failed; never rejects. */
function openWs(url: string, headers?: Record<string, string>): Promise<WebSocket | null> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers, maxPayload: 1024 * 1024 });
    ws.on('error', () => resolve(null));
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve(null);
    });
    ws.once('open', () => resolve(ws));
  });
}

function kill(ws: WebSocket, random: () => number): void {
  const tcp = (ws as unknown as { _socket?: Socket })._socket;
  const way = random();
  if (way < 0.4 && tcp) tcp.resetAndDestroy();
  else if (way < 0.6 && tcp) tcp.destroy();
  else if (way < 0.8) ws.close();
  else ws.terminate();
}

const sendAndKill: Chaos = async (gateway, random, index) => {
  const user = Math.floor(random() * USERS);
  const ws = await openWs(`${gateway.wsUrl}/v1/ws?token=${encodeURIComponent(tokens[user] as string)}`);
  if (!ws) return;
  ws.on('message', () => undefined);
  const roomId = roomIds[Math.floor(random() * roomIds.length)] as string;
  if (random() < 0.5) ws.send(JSON.stringify({ type: 'subscribe', id: 's', room_id: roomId, since_seq: 0 }));
  const sends = 1 + Math.floor(random() * 8);
  for (let i = 0; i < sends; i++) {
    // A retried client_msg_id (the same one on another socket) must still be stored once.
    const clientMsgId = `c${index % 500}-${i}`;
    ws.send(JSON.stringify({ type: 'message.send', id: `m${i}`, room_id: roomId, client_msg_id: clientMsgId, body: `chaos ${index}` }));
    if (random() < 0.3) ws.send(JSON.stringify({ type: 'typing', room_id: roomId }));
  }
  // Killed after 0-30 ms: before, during or after the requests are handled.
  await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 30)));
  kill(ws, random);
};

const badFrames: Chaos = async (gateway, random) => {
  const ws = await openWs(`${gateway.wsUrl}/v1/ws?token=${encodeURIComponent(tokens[0] as string)}`);
  if (!ws) return;
  ws.on('message', () => undefined);
  const closed = new Promise((resolve) => ws.once('close', resolve));
  const kind = random();
  if (kind < 0.25) ws.send(randomBytes(1 + Math.floor(random() * 200)).toString('latin1'));
  else if (kind < 0.5) ws.send(randomBytes(1 + Math.floor(random() * 200)), { binary: true });
  else if (kind < 0.7) ws.send(JSON.stringify({ type: 'message.send', room_id: 'x'.repeat(5000), body: 'y' }));
  else if (kind < 0.85)
    ws.send('x'.repeat(4096 * 5)); // beyond what uWS takes at all
  else ws.send('{"type":"subscribe","room_id":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}');
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 40)))]);
  kill(ws, random);
};

/** Raw TCP: an upgrade written slowly, with a huge header, or followed by half a frame. */
const rawTcp: Chaos = (gateway, random) =>
  new Promise((resolve) => {
    const socket = tcpConnect(hostPort(gateway));
    socket.on('error', () => resolve());
    socket.on('close', () => resolve());
    socket.on('data', () => undefined);
    const token = tokens[1] as string;
    const head = (extra: string) =>
      `GET /v1/ws?token=${token} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;
    const kind = random();
    socket.once('connect', () => {
      if (kind < 0.35) {
        // Slow upgrade: a few bytes at a time, then gone before it is complete.
        const text = head('');
        let at = 0;
        const timer = setInterval(() => {
          socket.write(text.slice(at, at + 7));
          at += 7;
          if (at > text.length / 2) {
            clearInterval(timer);
            random() < 0.5 ? socket.resetAndDestroy() : socket.end();
          }
        }, 5);
      } else if (kind < 0.6) {
        socket.write(head(`X-Huge: ${'h'.repeat(64 * 1024 + Math.floor(random() * 64 * 1024))}\r\n`));
        setTimeout(() => socket.destroy(), 50);
      } else {
        // A complete upgrade, then half a masked frame (header says 120 bytes, 10 come).
        socket.write(head(''));
        setTimeout(
          () => {
            socket.write(Buffer.from([0x81, 0x80 | 120, 1, 2, 3, 4, ...randomBytes(10)]));
            setTimeout(() => (random() < 0.5 ? socket.resetAndDestroy() : socket.end()), Math.floor(random() * 20));
          },
          Math.floor(random() * 20),
        );
      }
    });
  });

describe('socket chaos', () => {
  it(`survives ${SOCKETS} sockets killed at random points with bad frames and bad upgrades (CHAOS_SEED=${SEED})`, async () => {
    const owner = tokens[0] as string;
    roomIds = [];
    for (let r = 0; r < 5; r++) {
      const created = await api(stack.gateway(0).httpUrl, 'POST', '/v1/rooms', {
        token: owner,
        body: { kind: 'group', title: `Chaos ${r}`, member_ids: Array.from({ length: USERS - 1 }, (_, i) => `chaos-${i + 1}`) },
      });
      roomIds.push(created.body.id as string);
    }
    const random = rng(SEED);
    const plans = Array.from({ length: SOCKETS }, () => random());
    let next = 0;
    const worker = async (w: number) => {
      const own = rng(SEED * 31 + w);
      while (next < SOCKETS) {
        const index = next++;
        const pick = plans[index] as number;
        const gateway = stack.gateway(index % 2);
        const chaos = pick < 0.6 ? sendAndKill : pick < 0.85 ? badFrames : rawTcp;
        await chaos(gateway, own, index);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => worker(w)));

    for (const gateway of stack.gateways) {
      expect(gateway.process.child.exitCode, `gateway exited:\n${gateway.process.tail()}`).toBeNull();
      const client = await TestSocket.connect(gateway.wsUrl, tokens[1] as string);
      expect(await client.request({ type: 'ping' })).toMatchObject({ type: 'ack' });
      // The services may still be working off the sends of killed sockets (whose effects stand):
      // `unavailable` is retried with the same client_msg_id, as a client does.
      let sent = await client.request(
        { type: 'message.send', room_id: roomIds[0], client_msg_id: `probe-${gateway.wsUrl}`, body: 'ok' },
        20_000,
      );
      for (let attempt = 0; sent.type === 'error' && sent.code === 'unavailable' && attempt < 5; attempt++) {
        sent = await client.request(
          { type: 'message.send', room_id: roomIds[0], client_msg_id: `probe-${gateway.wsUrl}`, body: 'ok' },
          20_000,
        );
      }
      expect(sent).toMatchObject({ type: 'ack', data: { message: { body: 'ok' } } });
      await client.close();
    }
    const db = new pg.Client({ connectionString: stack.databaseUrl });
    await db.connect();
    try {
      const stored = await db.query<{ n: string }>('select count(*) as n from messages.messages');
      expect(Number(stored.rows[0]?.n)).toBeGreaterThan(0);
      const twice = await db.query('select sender_id, client_msg_id, count(*) from messages.messages group by 1, 2 having count(*) > 1');
      expect(twice.rows).toEqual([]);
    } finally {
      await db.end();
    }
  }, 90_000);
});
