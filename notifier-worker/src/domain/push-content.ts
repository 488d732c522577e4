/** What a coalesced push says, the same for every device of the user. */
export interface PushContent {
  user_id: string;
  room_id: string;
  message_ids: string[];
  count: number;
  title: string;
  body: string;
  /** The user's absolute unread total across rooms: the app badge. */
  badge: number;
  /** Set for an urgent message (pushed alone): providers raise the interruption level. */
  priority?: 'urgent';
  /** Set on a re-notification of a message that asked for acknowledgement: which one (1, 2, …). */
  reminder?: number;
}

export interface PushMessage {
  id: string;
  sender_name: string | null;
  sender_id: string;
  preview: string;
  priority?: 'normal' | 'urgent' | undefined;
}

/**
 * One message reads "Alice: Hello" under the room's title; several read "3 new messages in
 * Cleaning crew". A direct room is titled with the sender's name.
 */
export function composePush(
  userId: string,
  room: { id: string; kind: string; title: string | null },
  messages: readonly PushMessage[],
  badge: number,
): PushContent {
  const first = messages[0];
  const sender = first ? (first.sender_name ?? first.sender_id) : '';
  const title = room.kind === 'direct' ? sender : (room.title ?? 'New messages');
  const count = messages.length;
  let body: string;
  if (count === 1 && first) body = room.kind === 'direct' ? first.preview : `${sender}: ${first.preview}`;
  else body = `${count} new messages in ${room.kind === 'direct' ? `your chat with ${sender}` : title}`;
  const urgent = messages.some((m) => m.priority === 'urgent');
  return {
    user_id: userId,
    room_id: room.id,
    message_ids: messages.map((m) => m.id),
    count,
    title,
    body,
    badge,
    ...(urgent ? { priority: 'urgent' as const } : {}),
  };
}

/**
 * How the due messages of one device go out: every urgent message alone (never coalesced, DESIGN
 * 10.2), everything else together in one push.
 */
export function pushGroups<T extends { id: string; priority?: 'normal' | 'urgent' | undefined }>(messages: readonly T[]): T[][] {
  const normal = messages.filter((m) => m.priority !== 'urgent');
  const urgent = messages.filter((m) => m.priority === 'urgent').map((m) => [m]);
  return normal.length > 0 ? [...urgent, normal] : urgent;
}
