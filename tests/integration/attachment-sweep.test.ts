import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.js';
import { multipart, pngImage } from '../support/files.js';
import { api } from '../support/http.js';
import { mintToken, TestStack } from '../support/test-stack.js';

const UNUSED_TTL_MS = 8000;
const blobDir = mkdtempSync(join(tmpdir(), 'chat-sweep-blobs-'));
const stack = new TestStack({
  gateways: 1,
  env: { ATTACHMENT_DIR: blobDir, ATTACHMENT_SWEEP_MS: '200', ATTACHMENT_UNUSED_TTL_MS: String(UNUSED_TTL_MS) },
});
const alice = mintToken('s-alice');
const bob = mintToken('s-bob');
const rest = () => stack.gateway().httpUrl;

beforeAll(() => stack.start());
afterAll(async () => {
  await stack.stop();
  rmSync(blobDir, { recursive: true, force: true });
});

async function upload(roomId: string, name: string): Promise<string> {
  const form = multipart('file', name, 'image/png', pngImage(8, 8));
  const response = await fetch(`${rest()}/v1/rooms/${roomId}/attachments`, {
    method: 'POST',
    headers: { authorization: `Bearer ${alice}`, 'content-type': form.contentType },
    body: new Uint8Array(form.body),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

const send = (roomId: string, clientMsgId: string, attachmentId: string) =>
  api(rest(), 'POST', `/v1/rooms/${roomId}/messages`, {
    token: alice,
    body: { client_msg_id: clientMsgId, body: '', attachment_ids: [attachmentId] },
  });

describe('the attachment blob sweep', () => {
  it('deletes the bytes of abandoned uploads and of deleted messages, and keeps those in use', async () => {
    const roomId = (
      await api(rest(), 'POST', '/v1/rooms', { token: alice, body: { kind: 'group', title: 'Sweep', member_ids: ['s-bob'] } })
    ).body.id as string;
    const blobOf = (attachmentId: string) => join(blobDir, roomId, attachmentId);

    const kept = await upload(roomId, 'kept.png');
    expect((await send(roomId, 'kept', kept)).status).toBe(201);
    const removed = await upload(roomId, 'removed.png');
    const removedMessage = await send(roomId, 'removed', removed);
    expect(removedMessage.status).toBe(201);
    expect((await api(rest(), 'DELETE', `/v1/rooms/${roomId}/messages/${removedMessage.body.id}`, { token: alice })).status).toBe(200);
    // Uploaded last: once its bytes are gone, a sweep ran after every upload here had aged past the TTL.
    const abandoned = await upload(roomId, 'abandoned.png');
    expect(existsSync(blobOf(abandoned))).toBe(true);

    await eventually(
      async () => {
        expect(existsSync(blobOf(removed)), 'deleted message’s blob').toBe(false);
        expect(existsSync(blobOf(abandoned)), 'abandoned upload’s blob').toBe(false);
      },
      UNUSED_TTL_MS + 30_000,
      100,
    );

    expect(existsSync(blobOf(kept))).toBe(true);
    const download = await fetch(`${rest()}/v1/attachments/${kept}`, { headers: { authorization: `Bearer ${bob}` } });
    expect(download.status).toBe(200);
    expect((await download.arrayBuffer()).byteLength).toBeGreaterThan(0);

    // An abandoned upload is gone for good: it can no longer be attached or downloaded.
    expect(await send(roomId, 'late', abandoned)).toMatchObject({ status: 400, body: { code: 'invalid' } });
    expect((await fetch(`${rest()}/v1/attachments/${abandoned}`, { headers: { authorization: `Bearer ${alice}` } })).status).toBe(404);

    const db = new pg.Client({ connectionString: stack.databaseUrl });
    await db.connect();
    try {
      const { rows } = await db.query<{ id: string; blob_deleted_at: Date | null }>(
        'select id, blob_deleted_at from messages.attachments where room_id = $1',
        [roomId],
      );
      const swept = new Map(rows.map((r) => [r.id, r.blob_deleted_at !== null]));
      expect(Object.fromEntries(swept)).toEqual({ [kept]: false, [removed]: true, [abandoned]: true });
    } finally {
      await db.end();
    }
  }, 90_000);
});
