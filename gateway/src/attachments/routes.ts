import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { ChatError } from '@chat/shared';
import { thumbnailKeyOf } from '@chat/shared/rpc';
import type { ServicesClient } from '../clients/services-client.js';
import type { RestHandlers } from '../rest/mount.js';
import type { BlobStore } from './blob-store.js';
import { type PreparedImage, prepareImage } from './images.js';
import { contentDisposition, receiveUpload, type UploadLimits } from './receive-upload.js';

/** Uploads (members who may send) and downloads (members), streamed between client and blob store. */
export function attachmentHandlers(services: ServicesClient, blobs: BlobStore, limits: UploadLimits) {
  return {
    uploadAttachment: async ({ actor, params, req, res }) => {
      const roomId = params.room_id;
      const decision = await services.authorize(actor, roomId, 'message.send');
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
      const thumbKey = thumbnailKeyOf(key);
      let image: PreparedImage | undefined;
      try {
        // Images are stored upright without metadata (no GPS leaves the uploader's phone), with a thumbnail.
        image = await prepareImage(file.path, file.contentType, file.size, limits.maxPixels);
        if (image) {
          Object.assign(file, { size: image.size, width: image.width, height: image.height });
          await blobs.putFile(thumbKey, image.thumbnail.path, image.thumbnail.size, image.thumbnail.contentType);
        }
        await blobs.putFile(key, file.path, file.size, file.contentType);
      } catch (error) {
        if (image) await blobs.delete(thumbKey).catch(() => undefined);
        throw error;
      } finally {
        await Promise.all([rm(file.path, { force: true }), rm(`${file.path}.thumb`, { force: true })]);
      }
      // Refused (quota, membership changed) or unanswered: the stored bytes must not stay behind unrecorded.
      const attachment = await services
        .registerAttachment(actor, roomId, {
          id,
          name: file.name,
          content_type: file.contentType,
          size: file.size,
          ...(file.width ? { width: file.width, height: file.height } : {}),
          storage_key: key,
          ...(image
            ? {
                thumbnail: {
                  content_type: image.thumbnail.contentType,
                  size: image.thumbnail.size,
                  width: image.thumbnail.width,
                  height: image.thumbnail.height,
                },
              }
            : {}),
        })
        .catch(async (error: unknown) => {
          await blobs.delete(key).catch(() => undefined);
          if (image) await blobs.delete(thumbKey).catch(() => undefined);
          throw error;
        });
      return { status: 201, body: attachment };
    },

    downloadAttachment: async ({ actor, params, query, res }) => {
      const { attachment, storage_key, thumbnail } = await services.getAttachment(actor, params.attachment_id);
      const wantsThumb = query.size === 'thumb';
      if (wantsThumb && !thumbnail) throw ChatError.notFound('thumbnail');
      const served = wantsThumb && thumbnail ? thumbnail : { storage_key, content_type: attachment.content_type, size: attachment.size };
      const body = await blobs.get(served.storage_key);
      if (!body) throw ChatError.notFound('attachment');
      const inline = attachment.content_type.startsWith('image/');
      res.status(200);
      res.setHeader('Content-Type', served.content_type);
      res.setHeader('Content-Length', String(served.size));
      res.setHeader('Content-Disposition', contentDisposition(inline ? 'inline' : 'attachment', attachment.name));
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.setHeader('Cache-Control', 'private, max-age=3600');
      await pipeline(body, res);
      return { status: 200, streamed: true };
    },
  } satisfies Partial<RestHandlers>;
}
