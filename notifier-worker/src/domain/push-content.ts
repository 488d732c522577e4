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
}

export interface PushMessage {
  id: string;
  sender_name: string | null;
  sender_id: string;
  preview: string;
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
  return { user_id: userId, room_id: room.id, message_ids: messages.map((m) => m.id), count, title, body, badge };
}
