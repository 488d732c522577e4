import { type Attachment, ChatError } from '@chat/shared';
import type { Actor } from '@chat/shared/auth';
import { type AttachmentUpload, thumbnailKeyOf } from '@chat/shared/rpc';
import { attachmentProblem, toAttachment } from './message-rules.js';
import type { MessageStore } from './ports.js';
import { type RoomAccess, requireAccess } from './room-access.js';
import type { AttachmentRow } from './rows.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Uploads as messages hold them: registered after the gateway stored the bytes, read back by members only. */
export class MessageAttachments {
  constructor(
    private readonly store: Pick<MessageStore, 'uploadedInLastDay' | 'insertAttachment' | 'findAttachments' | 'findMessageSeq'>,
    private readonly rooms: Pick<RoomAccess, 'authorize'>,
    /** Bytes one user may upload in any 24 hours (unset: no quota). */
    private readonly quotaBytesPerDay?: number,
  ) {}

  /** Records an upload the gateway has stored; it can then go into one message of its uploader. */
  async registerAttachment(actor: Actor, roomId: string, upload: AttachmentUpload): Promise<Attachment> {
    await requireAccess(this.rooms, roomId, actor, 'message.send');
    const quota = this.quotaBytesPerDay;
    if (quota !== undefined) {
      const usage = await this.store.uploadedInLastDay(actor.user_id);
      if (usage.bytes + upload.size > quota) {
        // The window frees up as the oldest upload of the last day ages out.
        const retryAfterMs = usage.oldest ? Math.max(1000, usage.oldest.getTime() + DAY_MS - Date.now()) : DAY_MS;
        throw new ChatError('rate_limited', `upload quota of ${quota} bytes per day reached`, undefined, retryAfterMs);
      }
    }
    const { thumbnail, ...file } = upload;
    const row = {
      ...file,
      room_id: roomId,
      uploader_id: actor.user_id,
      width: upload.width ?? null,
      height: upload.height ?? null,
      thumbnail_content_type: thumbnail?.content_type ?? null,
      thumbnail_size: thumbnail?.size ?? null,
      thumbnail_width: thumbnail?.width ?? null,
      thumbnail_height: thumbnail?.height ?? null,
    };
    await this.store.insertAttachment(row);
    return toAttachment({ ...row, message_id: null, created_at: new Date(), deleted_at: null, sweep_until: null, blob_deleted_at: null });
  }

  /** An attachment for download: members of its room only, and gone once its message is deleted. */
  async getAttachment(
    actor: Actor,
    attachmentId: string,
  ): Promise<{
    attachment: Attachment;
    storage_key: string;
    thumbnail: { storage_key: string; content_type: string; size: number } | null;
  }> {
    const [row] = await this.store.findAttachments([attachmentId]);
    if (!row || row.deleted_at !== null) throw ChatError.notFound('attachment');
    const decision = await this.rooms.authorize(row.room_id, actor, 'room.read');
    if (!decision.allowed) throw ChatError.notFound('attachment');
    if (decision.visible_from_seq > 0) {
      // Joined history: files of messages from before the reader joined do not exist for them,
      // nor do others' uploads not yet sent (they may predate the joining too).
      const seq = row.message_id ? await this.store.findMessageSeq(row.message_id, row.room_id) : undefined;
      const visible = row.message_id ? seq !== undefined && seq > decision.visible_from_seq : row.uploader_id === actor.user_id;
      if (!visible) throw ChatError.notFound('attachment');
    }
    const thumbnail =
      row.thumbnail_content_type !== null && row.thumbnail_size !== null
        ? { storage_key: thumbnailKeyOf(row.storage_key), content_type: row.thumbnail_content_type, size: row.thumbnail_size }
        : null;
    return { attachment: toAttachment(row), storage_key: row.storage_key, thumbnail };
  }
}

/**
 * The attachments a send names, each checked (an upload of this sender, in this room, in no other
 * message yet): a problem is an `invalid` error that names every bad id.
 */
export async function resolveAttachments(
  store: Pick<MessageStore, 'findAttachments'>,
  actor: Actor,
  roomId: string,
  ids: string[],
): Promise<Attachment[]> {
  const unique = [...new Set(ids)];
  const rows = await store.findAttachments(unique);
  const byId = new Map(rows.map((r) => [r.id, r]));
  const problems = unique.flatMap((id, i) => {
    const problem = attachmentProblem(byId.get(id), roomId, actor.user_id);
    return problem ? [{ path: `attachment_ids.${i}`, message: problem }] : [];
  });
  if (problems.length > 0) throw ChatError.invalid(`attachment ${problems[0]?.message}`, problems);
  return unique.map((id) => toAttachment(byId.get(id) as AttachmentRow));
}
