import { randomUUID } from 'node:crypto';
import {
  ChatError,
  type ClientFrame,
  ClientFrameSchema,
  COMPAT_FRAME_TYPES,
  CompatClientFrameSchema,
  fieldIssuesFromZod,
} from '@chat/shared';
import type { z } from 'zod';

/** Frames only the compatibility path has, once their room is known; answered like `read`. */
export type CompatReadFrame =
  | { type: 'read_receipt'; id?: string | undefined; room_id: string; message_id: string }
  | { type: 'mark_room_read'; id?: string | undefined; room_id: string };

/** What a socket handler answers: a modern frame, or one of the compatibility path's read frames. */
export type IncomingFrame = ClientFrame | CompatReadFrame;

function invalid(error: z.ZodError): ChatError {
  const details = fieldIssuesFromZod(error);
  return ChatError.invalid(`invalid frame: ${details[0]?.path ? `${details[0].path}: ` : ''}${details[0]?.message ?? ''}`, details);
}

/** A frame of the modern protocol (`/v1/ws`). */
export function parseModernFrame(parsed: unknown): ClientFrame {
  const result = ClientFrameSchema.safeParse(parsed);
  if (!result.success) throw invalid(result.error);
  return result.data;
}

/**
 * A frame on the compatibility path `/ws/chat/{room_id}/` (DESIGN 10.5): `room_id` defaults to the
 * path's room, and the earlier systems' frames are turned into their modern equivalents, so they
 * go through the same checks, limits and answers.
 */
export function parseCompatFrame(parsed: unknown, pathRoomId: string): IncomingFrame {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return parseModernFrame(parsed);
  const type = (parsed as { type?: unknown }).type;
  const withRoom = 'room_id' in parsed || type === 'ping' ? parsed : { ...parsed, room_id: pathRoomId };
  if (typeof type !== 'string' || !COMPAT_FRAME_TYPES.has(type)) return parseModernFrame(withRoom);
  const result = CompatClientFrameSchema.safeParse(withRoom);
  if (!result.success) throw invalid(result.error);
  const frame = result.data;
  const room_id = frame.room_id ?? pathRoomId;
  const id = frame.id;
  switch (frame.type) {
    case 'chat_message':
      return parseModernFrame({
        type: 'message.send',
        id,
        room_id,
        body: textOf(frame.message, frame.content, 'message'),
        // The earlier clients sent no key: a made-up one stores the message once, and a resend is another message.
        client_msg_id: frame.client_msg_id ?? randomUUID(),
        reply_to: frame.reply_to ?? undefined,
      });
    case 'edit_message':
      return parseModernFrame({
        type: 'message.edit',
        id,
        room_id,
        message_id: frame.message_id,
        body: textOf(frame.content, frame.message, 'content'),
      });
    case 'read_receipt':
      return { type: 'read_receipt', id, room_id, message_id: frame.message_id };
    case 'mark_room_read':
      return { type: 'mark_room_read', id, room_id };
    case 'typing':
      return parseModernFrame({ type: 'typing', id, room_id });
    default: {
      const unknown: never = frame;
      throw ChatError.invalid(`unsupported frame ${JSON.stringify(unknown).slice(0, 40)}`);
    }
  }
}

function textOf(first: string | undefined, second: string | undefined, path: string): string {
  const text = first ?? second;
  if (text === undefined)
    throw ChatError.invalid(`invalid frame: ${path}: the text is required (message or content)`, [{ path, message: 'required' }]);
  return text;
}
