import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pngImage } from '../support/files.js';
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
    RATE_LIMIT_SEARCHES_PER_S: '0.5',
    RATE_LIMIT_SEARCHES_BURST: '3',
    RATE_LIMIT_ROOM_CREATES_PER_S: '0.5',
    RATE_LIMIT_ROOM_CREATES_BURST: '3',
    RATE_LIMIT_DEVICE_REGISTRATIONS_PER_S: '0.5',
    RATE_LIMIT_DEVICE_REGISTRATIONS_BURST: '2',
    RATE_LIMIT_UPLOADS_PER_S: '0.5',
    RATE_LIMIT_UPLOADS_BURST: '2',
    ALLOWED_ORIGINS: 'https://app.example',
    ATTACHMENT_MAX_PIXELS: '10000',
    ATTACHMENT_QUOTA_BYTES_PER_DAY: '50000',
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

  it('answers refusals frame by frame, and closes with 4008 only a socket that keeps sending after retry_after_ms', async () => {
    const token = mintToken('l-hammer');
    const roomId = await room(token);
    const socket = await TestSocket.connect(stack.gateway(0).wsUrl, token);
    const answers: string[] = [];
    let retryAfterMs = 0;
    for (let i = 0; i < 12; i++) {
      const answer = await socket.request({ type: 'message.send', room_id: roomId, client_msg_id: `h${i}`, body: 'x' });
      answers.push(answer.type === 'ack' ? 'ack' : String(answer.code));
      if (answer.type === 'error') retryAfterMs = Number(answer.retry_after_ms);
    }
    // Refused within the time it was told to wait: more than RATE_LIMIT_CLOSE_AFTER (4), still open.
    expect(answers).toEqual([...Array(5).fill('ack'), ...Array(7).fill('rate_limited')]);
    expect(retryAfterMs).toBeGreaterThan(0);
    // The client waits as told, then ignores it again: one frame gets through, the rest are strikes.
    await new Promise((resolve) => setTimeout(resolve, retryAfterMs + 50));
    for (let i = 0; i < 8; i++) socket.send({ type: 'message.send', room_id: roomId, client_msg_id: `again${i}`, body: 'x', id: `a${i}` });
    const closed = await socket.closed;
    expect(closed.code).toBe(4008);
    expect(closed.reason).toContain('retry_after_ms');
    expect(socket.frames.filter((f) => f.type === 'error' && String(f.id).startsWith('a'))).toHaveLength(4);
    expect(await history(token, roomId)).toHaveLength(6);
  });

  it('limits the costly REST actions per user across gateways with 429 rate_limited and Retry-After', async () => {
    const token = mintToken('l-costly');
    const searches = [];
    for (let i = 0; i < 4; i++) searches.push(await api(rest(i % 2), 'GET', '/v1/search/messages?q=hello', { token }));
    expect(searches.map((r) => r.status)).toEqual([200, 200, 200, 429]);
    expect(searches[3]?.body).toMatchObject({ code: 'rate_limited', retry_after_ms: expect.any(Number) });
    expect(Number(searches[3]?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Another user's bucket is untouched.
    expect((await api(rest(), 'GET', '/v1/search/messages?q=hello', { token: mintToken('l-other') })).status).toBe(200);

    const creates = [];
    for (let i = 0; i < 4; i++) {
      creates.push(await api(rest(i % 2), 'POST', '/v1/rooms', { token, body: { kind: 'group', title: `c${i}`, member_ids: [] } }));
    }
    expect(creates.map((r) => r.status)).toEqual([201, 201, 201, 429]);
    expect((await api<{ items: unknown[] }>(rest(), 'GET', '/v1/rooms', { token })).body.items).toHaveLength(3);

    const devices = [];
    for (let i = 0; i < 3; i++) {
      devices.push(await api(rest(i % 2), 'PUT', `/v1/devices/l-costly-device-${i}`, { token, body: { platform: 'webhook' } }));
    }
    // Whatever the notifier answers (this stack configures no push provider), the third never reaches it.
    expect(devices.map((r) => r.status === 429)).toEqual([false, false, true]);
    expect(devices[2]).toMatchObject({ status: 429, body: { code: 'rate_limited' } });
  });

  it('limits uploads before reading them', async () => {
    const token = mintToken('l-uploader');
    const roomId = await room(token);
    const statuses = [];
    for (let i = 0; i < 3; i++) {
      const form = new FormData();
      form.append('file', new Blob(['plain text'], { type: 'text/plain' }), `n${i}.txt`);
      const response = await fetch(`${rest(i % 2)}/v1/rooms/${roomId}/attachments`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        body: form,
      });
      statuses.push(response.status);
    }
    expect(statuses).toEqual([201, 201, 429]);
  });

  it('refuses REST calls from an origin outside ALLOWED_ORIGINS and grants CORS to the allowed one', async () => {
    const token = mintToken('l-origin');
    const evil = await fetch(`${rest()}/v1/rooms`, { headers: { authorization: `Bearer ${token}`, origin: 'https://evil.example' } });
    expect(evil.status).toBe(403);
    expect(((await evil.json()) as { code: string }).code).toBe('forbidden');
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();

    const good = await fetch(`${rest()}/v1/rooms`, { headers: { authorization: `Bearer ${token}`, origin: 'https://app.example' } });
    expect(good.status).toBe(200);
    expect(good.headers.get('access-control-allow-origin')).toBe('https://app.example');

    const preflight = await fetch(`${rest()}/v1/rooms`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toContain('Authorization');

    const noOrigin = await fetch(`${rest()}/v1/rooms`, { headers: { authorization: `Bearer ${token}` } });
    expect(noOrigin.status).toBe(200);
    const sameOrigin = await fetch(`${rest()}/v1/rooms`, { headers: { authorization: `Bearer ${token}`, origin: rest() } });
    expect(sameOrigin.status).toBe(200);
  });

  it('refuses images above ATTACHMENT_MAX_PIXELS with 413 too_large and accepts smaller ones', async () => {
    const token = mintToken('l-pixels');
    const roomId = await room(token);
    const upload = async (png: Buffer) => {
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'i.png');
      const response = await fetch(`${rest()}/v1/rooms/${roomId}/attachments`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        body: form,
      });
      return { status: response.status, body: (await response.json()) as { code?: string; width?: number } };
    };
    expect(await upload(pngImage(101, 100))).toMatchObject({ status: 413, body: { code: 'too_large' } });
    expect(await upload(pngImage(100, 100))).toMatchObject({ status: 201, body: { width: 100 } });
  });

  it('refuses uploads beyond ATTACHMENT_QUOTA_BYTES_PER_DAY with 429 rate_limited, per user', async () => {
    const token = mintToken('l-quota');
    const roomId = await room(token);
    const upload = async (as: string, bytes: number) => {
      const form = new FormData();
      form.append('file', new Blob(['q'.repeat(bytes)], { type: 'text/plain' }), 'q.txt');
      const response = await fetch(`${rest()}/v1/rooms/${roomId}/attachments`, {
        method: 'POST',
        headers: { authorization: `Bearer ${as}` },
        body: form,
      });
      return { status: response.status, body: (await response.json()) as { code?: string; retry_after_ms?: number; detail?: string } };
    };
    expect((await upload(token, 30_000)).status).toBe(201);
    const over = await upload(token, 30_000);
    expect(over).toMatchObject({ status: 429, body: { code: 'rate_limited' } });
    // The quota (a day), not the upload bucket (seconds), refused it.
    expect(over.body.retry_after_ms).toBeGreaterThan(23 * 3600 * 1000);
  });
});
