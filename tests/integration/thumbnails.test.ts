import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { multipart, pdfDocument } from '../support/files.js';
import { api } from '../support/http.js';
import { mintToken, TestStack } from '../support/test-stack.js';

/** Images for phones (DESIGN 10.5): thumbnails made at upload, `?size=thumb`, EXIF/GPS gone after orientation. */
const blobDir = mkdtempSync(join(tmpdir(), 'chat-thumbs-'));
const stack = new TestStack({ gateways: 1, env: { ATTACHMENT_DIR: blobDir } });
const alice = mintToken('th-alice');
const bob = mintToken('th-bob');
const mallory = mintToken('th-mallory');
const rest = () => stack.gateway().httpUrl;

beforeAll(() => stack.start());
afterAll(async () => {
  await stack.stop();
  rmSync(blobDir, { recursive: true, force: true });
});

type Attachment = {
  id: string;
  content_type: string;
  size: number;
  url: string;
  width?: number;
  height?: number;
  thumbnail_url?: string;
};

async function room(): Promise<string> {
  const created = await api(rest(), 'POST', '/v1/rooms', {
    token: alice,
    body: { kind: 'group', title: 'Photos', member_ids: ['th-bob'] },
  });
  return created.body.id as string;
}

async function upload(roomId: string, file: Buffer, name: string): Promise<{ status: number; body: Attachment }> {
  const form = multipart('file', name, 'application/octet-stream', file);
  const response = await fetch(`${rest()}/v1/rooms/${roomId}/attachments`, {
    method: 'POST',
    headers: { authorization: `Bearer ${alice}`, 'content-type': form.contentType },
    body: new Uint8Array(form.body),
  });
  return { status: response.status, body: (await response.json()) as Attachment };
}

async function download(path: string, token: string): Promise<{ status: number; type: string; bytes: Buffer }> {
  const response = await fetch(`${rest()}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, type: response.headers.get('content-type') ?? '', bytes: Buffer.from(await response.arrayBuffer()) };
}

/** A photo as a phone takes it: pixels stored sideways (800×400) with orientation 6, camera and GPS in EXIF. */
function phonePhoto(): Promise<Buffer> {
  return sharp({ create: { width: 800, height: 400, channels: 3, background: { r: 200, g: 30, b: 30 } } })
    .jpeg()
    .withMetadata({ orientation: 6 })
    .withExif({
      IFD0: { Make: 'TestPhone', Model: 'Leaky 3000' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 2916/100', GPSLongitudeRef: 'E', GPSLongitude: '2/1 21/1 792/100' },
    })
    .toBuffer();
}

describe('image uploads', () => {
  it('stores a phone photo upright without EXIF or GPS, and serves a JPEG thumbnail of at most 320 px', async () => {
    const photo = await phonePhoto();
    const before = await sharp(photo).metadata();
    expect(before).toMatchObject({ width: 800, height: 400, orientation: 6 });
    expect(before.exif).toBeDefined();
    expect(photo.includes('TestPhone')).toBe(true);

    const roomId = await room();
    const uploaded = await upload(roomId, photo, 'IMG_0001.jpg');
    expect(uploaded.status).toBe(201);
    const attachment = uploaded.body;
    expect(attachment).toMatchObject({ content_type: 'image/jpeg', width: 400, height: 800 });
    expect(attachment.thumbnail_url).toBe(`/v1/attachments/${attachment.id}?size=thumb`);

    const stored = await download(attachment.url, bob);
    expect(stored.status).toBe(200);
    expect(stored.bytes.length).toBe(attachment.size);
    const metadata = await sharp(stored.bytes).metadata();
    expect(metadata).toMatchObject({ format: 'jpeg', width: 400, height: 800 });
    expect(metadata.orientation).toBeUndefined();
    expect(metadata.exif).toBeUndefined();
    expect(metadata.xmp).toBeUndefined();
    expect(stored.bytes.includes('TestPhone')).toBe(false);
    expect(stored.bytes.includes('Leaky 3000')).toBe(false);

    const thumb = await download(attachment.thumbnail_url as string, bob);
    expect(thumb.status).toBe(200);
    expect(thumb.type).toBe('image/jpeg');
    expect(await sharp(thumb.bytes).metadata()).toMatchObject({ format: 'jpeg', width: 160, height: 320 });
    expect((await sharp(thumb.bytes).metadata()).exif).toBeUndefined();

    // The message carries the thumbnail's address with the attachment.
    const sent = await api(rest(), 'POST', `/v1/rooms/${roomId}/messages`, {
      token: alice,
      body: { client_msg_id: 'photo-1', body: '', attachment_ids: [attachment.id] },
    });
    expect(sent.status).toBe(201);
    expect(sent.body).toMatchObject({ kind: 'image', attachments: [{ id: attachment.id, thumbnail_url: attachment.thumbnail_url }] });
  });

  it('makes a WebP thumbnail for an image with transparency and never enlarges a small one', async () => {
    const roomId = await room();
    const banner = await sharp({ create: { width: 1000, height: 200, channels: 4, background: { r: 0, g: 0, b: 255, alpha: 0.5 } } })
      .png()
      .toBuffer();
    const wide = await upload(roomId, banner, 'banner.png');
    expect(wide.status).toBe(201);
    expect(wide.body).toMatchObject({ content_type: 'image/png', width: 1000, height: 200 });
    const wideThumb = await download(wide.body.thumbnail_url as string, alice);
    expect(wideThumb.type).toBe('image/webp');
    expect(await sharp(wideThumb.bytes).metadata()).toMatchObject({ format: 'webp', width: 320, height: 64, hasAlpha: true });

    const icon = await sharp({ create: { width: 100, height: 50, channels: 3, background: '#00ff00' } })
      .webp()
      .toBuffer();
    const small = await upload(roomId, icon, 'icon.webp');
    expect(small.status).toBe(201);
    const smallThumb = await download(small.body.thumbnail_url as string, alice);
    expect(await sharp(smallThumb.bytes).metadata()).toMatchObject({ format: 'jpeg', width: 100, height: 50 });
  });

  it('gives files that are not images no thumbnail, and both sizes to members only', async () => {
    const roomId = await room();
    const pdf = await upload(roomId, pdfDocument(), 'terms.pdf');
    expect(pdf.status).toBe(201);
    expect(pdf.body.thumbnail_url).toBeUndefined();
    expect((await download(`${pdf.body.url}?size=thumb`, alice)).status).toBe(404);
    expect((await download(`${pdf.body.url}?size=full`, alice)).status).toBe(200);
    expect((await download(`${pdf.body.url}?size=huge`, alice)).status).toBe(400);

    const photo = await upload(roomId, await phonePhoto(), 'p.jpg');
    expect((await download(photo.body.thumbnail_url as string, mallory)).status).toBe(404);
    expect((await download(photo.body.url, mallory)).status).toBe(404);
    expect((await download(photo.body.thumbnail_url as string, bob)).status).toBe(200);
  });

  it('refuses bytes that look like an image but do not decode', async () => {
    const roomId = await room();
    const photo = await phonePhoto();
    // A JPEG header with its image data cut short.
    const broken = Buffer.concat([photo.subarray(0, 600), Buffer.alloc(400, 0x42)]);
    const refused = await upload(roomId, broken, 'broken.jpg');
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ code: 'invalid' });
  });
});
