import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeS3 } from '../support/fake-s3.js';
import { fakePng, multipart, pdfDocument, pngImage } from '../support/files.js';
import { api } from '../support/http.js';
import { type Gateway, mintToken, TestStack } from '../support/test-stack.js';

const MAX = 200_000;
const blobDir = mkdtempSync(join(tmpdir(), 'chat-blobs-'));
const stack = new TestStack({ gateways: 1, env: { ATTACHMENT_MAX_BYTES: String(MAX), ATTACHMENT_DIR: blobDir } });
const s3 = new FakeS3();
let s3Gateway: Gateway;
const alice = mintToken('a-alice');
const bob = mintToken('a-bob');
const rest = () => stack.gateway().httpUrl;

beforeAll(async () => {
  await stack.start();
  await s3.start();
  s3Gateway = await stack.startGateway({
    ATTACHMENT_STORE: 's3',
    S3_BUCKET: 'chat',
    S3_ENDPOINT: s3.url,
    S3_ACCESS_KEY_ID: 'test',
    S3_SECRET_ACCESS_KEY: 'test',
  });
});
afterAll(async () => {
  await stack.stop();
  await s3.stop();
  rmSync(blobDir, { recursive: true, force: true });
});

/** Two encoded images with the same decoded pixels. */
async function samePixels(a: Buffer, b: Buffer): Promise<boolean> {
  const [x, y] = await Promise.all([a, b].map((image) => sharp(image).ensureAlpha().raw().toBuffer()));
  return x !== undefined && y !== undefined && x.equals(y);
}

async function room(): Promise<string> {
  return (await api(rest(), 'POST', '/v1/rooms', { token: alice, body: { kind: 'group', title: 'Files', member_ids: ['a-bob'] } })).body
    .id as string;
}

async function upload(
  baseUrl: string,
  token: string,
  roomId: string,
  file: Buffer,
  name: string,
  declaredType = 'application/octet-stream',
  field = 'file',
) {
  const form = multipart(field, name, declaredType, file);
  const response = await fetch(`${baseUrl}/v1/rooms/${roomId}/attachments`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': form.contentType },
    body: new Uint8Array(form.body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('attachments', () => {
  it('stores an image with its detected type and size, attaches it to a message, and serves it to members only', async () => {
    const roomId = await room();
    const png = pngImage(40, 30);
    const uploaded = await upload(rest(), alice, roomId, png, 'holiday photo.png', 'image/png');
    expect(uploaded.status).toBe(201);
    expect(uploaded.body).toMatchObject({ name: 'holiday photo.png', content_type: 'image/png', width: 40, height: 30 });
    const attachmentId = uploaded.body.id as string;
    const sent = await api(rest(), 'POST', `/v1/rooms/${roomId}/messages`, {
      token: alice,
      body: { client_msg_id: 'img', body: '', attachment_ids: [attachmentId] },
    });
    expect(sent).toMatchObject({
      status: 201,
      body: { kind: 'image', attachments: [{ id: attachmentId, url: `/v1/attachments/${attachmentId}` }] },
    });

    const download = await fetch(`${rest()}/v1/attachments/${attachmentId}`, { headers: { authorization: `Bearer ${bob}` } });
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('image/png');
    expect(download.headers.get('content-disposition')).toBe(`inline; filename="holiday photo.png"; filename*=UTF-8''holiday%20photo.png`);
    // Images are stored re-encoded without metadata (DESIGN 10.5): the same pixels, not the same bytes.
    const served = Buffer.from(await download.arrayBuffer());
    expect(served.length).toBe(uploaded.body.size);
    expect(await samePixels(served, png)).toBe(true);
    const outsider = await fetch(`${rest()}/v1/attachments/${attachmentId}`, {
      headers: { authorization: `Bearer ${mintToken('a-out')}` },
    });
    expect(outsider.status).toBe(404);
    // Deleting the message takes the attachment with it.
    await api(rest(), 'DELETE', `/v1/rooms/${roomId}/messages/${sent.body.id}`, { token: alice });
    expect((await fetch(`${rest()}/v1/attachments/${attachmentId}`, { headers: { authorization: `Bearer ${bob}` } })).status).toBe(404);
  });

  it('judges the type by the bytes: a renamed PDF is a file, a fake PNG is refused', async () => {
    const roomId = await room();
    const pdf = await upload(rest(), alice, roomId, pdfDocument(), 'photo.png', 'image/png');
    expect(pdf).toMatchObject({ status: 201, body: { content_type: 'application/pdf', name: 'photo.png' } });
    expect(pdf.body).not.toHaveProperty('width');
    const sent = await api(rest(), 'POST', `/v1/rooms/${roomId}/messages`, {
      token: alice,
      body: { client_msg_id: 'pdf', body: 'the contract', attachment_ids: [pdf.body.id] },
    });
    expect(sent.body).toMatchObject({ kind: 'file' });
    const download = await fetch(`${rest()}/v1/attachments/${pdf.body.id}`, { headers: { authorization: `Bearer ${bob}` } });
    expect(download.headers.get('content-disposition')).toMatch(/^attachment;/);
    const fake = await upload(rest(), alice, roomId, fakePng(), 'fake.png', 'image/png');
    expect(fake).toMatchObject({ status: 400, body: { code: 'invalid', details: [{ path: 'file', message: 'not a valid image' }] } });
    const exe = await upload(
      rest(),
      alice,
      roomId,
      Buffer.from([0x4d, 0x5a, 0x90, 0, 3, 0, 0, 0, 4, 0, 0, 0, 0xff, 0xff, 0, 0]),
      'setup.exe',
    );
    expect(exe).toMatchObject({ status: 400, body: { code: 'invalid' } });
  });

  it('refuses oversize, truncated and malformed uploads, and uploads by non-members, keeping nothing', async () => {
    const roomId = await room();
    const big = await upload(rest(), alice, roomId, Buffer.alloc(MAX + 1, 'a'), 'big.txt');
    expect(big).toMatchObject({ status: 413, body: { code: 'too_large' } });
    const wrongField = await upload(rest(), alice, roomId, Buffer.from('hello'), 'a.txt', 'text/plain', 'document');
    expect(wrongField).toMatchObject({ status: 400, body: { code: 'invalid' } });
    const notMultipart = await api(rest(), 'POST', `/v1/rooms/${roomId}/attachments`, { token: alice, body: { file: 'x' } });
    expect(notMultipart).toMatchObject({ status: 400, body: { code: 'invalid' } });
    const outsider = await upload(rest(), mintToken('a-out'), roomId, Buffer.from('hello'), 'a.txt');
    expect(outsider.status).toBe(404);

    // A body cut off before its closing boundary.
    const form = multipart('file', 'cut.txt', 'text/plain', Buffer.from('partial content'));
    const truncated = form.body.subarray(0, form.body.length - 20);
    const status = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const url = new URL(`${rest()}/v1/rooms/${roomId}/attachments`);
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: { authorization: `Bearer ${alice}`, 'content-type': form.contentType, 'content-length': truncated.length },
        },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => {
            body += c.toString();
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end(truncated);
    });
    expect(status.status).toBe(400);
    expect(JSON.parse(status.body)).toMatchObject({ code: 'invalid' });
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(blobDir)).not.toContain(roomId);
  });

  it('lets only the uploader attach an upload, once, in its own room', async () => {
    const roomId = await room();
    const other = await room();
    const uploaded = await upload(rest(), alice, roomId, Buffer.from('notes'), 'notes.txt', 'text/plain');
    expect(uploaded.body).toMatchObject({ content_type: 'text/plain' });
    const byBob = await api(rest(), 'POST', `/v1/rooms/${roomId}/messages`, {
      token: bob,
      body: { client_msg_id: 'b', body: 'x', attachment_ids: [uploaded.body.id] },
    });
    expect(byBob).toMatchObject({ status: 400, body: { details: [{ path: 'attachment_ids.0', message: 'uploaded by someone else' }] } });
    const elsewhere = await api(rest(), 'POST', `/v1/rooms/${other}/messages`, {
      token: alice,
      body: { client_msg_id: 'e', body: 'x', attachment_ids: [uploaded.body.id] },
    });
    expect(elsewhere).toMatchObject({ status: 400, body: { details: [{ message: 'uploaded to another room' }] } });
    const first = await api(rest(), 'POST', `/v1/rooms/${roomId}/messages`, {
      token: alice,
      body: { client_msg_id: 'f', body: 'x', attachment_ids: [uploaded.body.id] },
    });
    expect(first).toMatchObject({ status: 201, body: { kind: 'file' } });
    const again = await api(rest(), 'POST', `/v1/rooms/${roomId}/messages`, {
      token: alice,
      body: { client_msg_id: 'g', body: 'x', attachment_ids: [uploaded.body.id] },
    });
    expect(again).toMatchObject({ status: 400, body: { details: [{ message: 'already part of a message' }] } });
  });

  it('stores and serves through the S3 driver when configured', async () => {
    const roomId = await room();
    const png = pngImage(8, 8);
    const uploaded = await upload(s3Gateway.httpUrl, alice, roomId, png, 'tiny.png');
    expect(uploaded).toMatchObject({ status: 201, body: { content_type: 'image/png', width: 8, height: 8 } });
    const stored = s3.objects.get(`/chat/attachments/${roomId}/${uploaded.body.id}`)?.body;
    expect(stored && (await samePixels(stored, png))).toBe(true);
    expect(s3.objects.has(`/chat/attachments/${roomId}/${uploaded.body.id}.thumb`)).toBe(true);
    const download = await fetch(`${s3Gateway.httpUrl}/v1/attachments/${uploaded.body.id}`, {
      headers: { authorization: `Bearer ${alice}` },
    });
    expect(Buffer.from(await download.arrayBuffer()).equals(stored ?? Buffer.alloc(0))).toBe(true);
  });
});
