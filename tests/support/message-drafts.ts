import { randomUUID } from 'node:crypto';
import type { MessageRow } from '../../messages-service/src/db/schema.js';
import { encodeRoomEvent, toMessage } from '../../messages-service/src/domain/message-rules.js';
import type { MessageDraft } from '../../messages-service/src/domain/rows.js';

/** A plain text message as the messages domain would hand it to the repository. */
export function plainDraft(roomId: string, senderId: string, clientMsgId: string, body = clientMsgId): MessageDraft {
  return {
    id: randomUUID(),
    room_id: roomId,
    sender_id: senderId,
    sender_name: null,
    client_msg_id: clientMsgId,
    kind: 'text',
    body,
    mentions: [],
    reply_to: null,
    thread_root_id: null,
    attachments: [],
    priority: 'normal',
    ack_requested: false,
  };
}

/** The `message.created` frame of a stored row, as the messages service encodes it. */
export const encodeCreated = (row: MessageRow): string => encodeRoomEvent('message.created', row.seq, toMessage(row));
