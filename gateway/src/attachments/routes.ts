import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { ChatError, parseOrThrow } from '@chat/shared';
import express from 'express';
import { z } from 'zod';
import { actorOf, roomIdOf } from '../rest/request.js';
import type { Upstream } from '../upstream/services.js';
import type { BlobStore } from './blob-store.js';
import { contentDisposition, receiveUpload, type UploadLimits } from './receive-upload.js';

/** Uploads (members who may send) and downloads (members), streamed between client and blob store. */
export function attachmentRoutes(upstream: Upstream, blobs: BlobStore, limits: UploadLimits): express.Router {
  const router = express.Router();

  router.post('/rooms/:room_id/attachments', async (req, res) => {
    const roomId = roomIdOf(req);
    const actor = actorOf(res);
    const decision = await upstream.authorize(actor, roomId, 'message.send');
    if (!decision.member) throw ChatError.notFound('room');
    if (!decision.allowed) throw ChatError.forbidden('not allowed to post in this room');
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limits.maxBytes + 64 * 1024) {
      res.setHeader('Connection', 'close');
      throw new ChatError('too_large', `the file is larger than ${limits.maxBytes} bytes`);
    }
    const file = await receiveUpload(req, limits);
    const id = randomUUID();
    const key = `${roomId}/${id}`;
    try {
      await blobs.putFile(key, file.path, file.size, file.contentType);
    } finally {
      await rm(file.path, { force: true });
    }
    const attachment = await upstream.registerAttachment(actor, roomId, {
      id,
      name: file.name,
      content_type: file.contentType,
      size: file.size,
      ...(file.width ? { width: file.width, height: file.height } : {}),
      storage_key: key,
    });
    res.status(201).json(attachment);
  });

  router.get('/attachments/:attachment_id', async (req, res) => {
    const id = parseOrThrow(z.uuid(), req.params.attachment_id, 'attachment_id');
    const { attachment, storage_key } = await upstream.getAttachment(actorOf(res), id);
    const body = await blobs.get(storage_key);
    if (!body) throw ChatError.notFound('attachment');
    const inline = attachment.content_type.startsWith('image/');
    res.status(200);
    res.setHeader('Content-Type', attachment.content_type);
    res.setHeader('Content-Length', String(attachment.size));
    res.setHeader('Content-Disposition', contentDisposition(inline ? 'inline' : 'attachment', attachment.name));
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Cache-Control', 'private, max-age=3600');
    await pipeline(body, res);
  });
  return router;
}
