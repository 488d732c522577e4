import { type Message, MessageSchema, type Room } from '@chat/shared';
import type { PublicRoomRow, RoomViewRow } from './ports.js';

/**
 * Room lists show the last message as its last event carried it; the `me` of its reactions is
 * per-recipient and absent there.
 */
function parseLastMessage(json: string | null): Message | null {
  if (!json) return null;
  const parsed = MessageSchema.safeParse(JSON.parse(json));
  return parsed.success ? parsed.data : null;
}

/** What every member sees; `me` is added per member. */
export function toPublicRoom(row: PublicRoomRow): Omit<Room, 'me'> {
  return {
    id: row.id,
    kind: row.kind,
    title: row.title,
    context: row.context_type && row.context_id ? { type: row.context_type, id: row.context_id } : null,
    created_by: row.created_by,
    created_at: row.created_at.toISOString(),
    last_seq: row.last_seq,
    last_message: parseLastMessage(row.last_message),
    member_count: row.member_count,
    closed_at: row.closed_at ? row.closed_at.toISOString() : null,
    history_visibility: row.history_visibility,
  };
}

export function toRoom(row: RoomViewRow): Room {
  return {
    ...toPublicRoom(row),
    title: row.kind === 'direct' ? row.direct_title : row.title,
    me: {
      role: row.role,
      last_read_seq: row.last_read_seq,
      unread_count: row.unread_count,
      muted_until: row.muted_until ? row.muted_until.toISOString() : null,
      notify: row.notify,
      archived: row.archived,
      visible_from_seq: row.visible_from_seq,
    },
  };
}
