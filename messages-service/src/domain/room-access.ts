import { ChatError, type ContextRef } from '@chat/shared';
import type { Actor } from '@chat/shared/auth';
import type { RoomAction } from '@chat/shared/rpc';

/** What the rooms service decided, and the room facts a refusal is explained by. */
export interface RoomAccessAnswer {
  allowed: boolean;
  member: boolean;
  /** The room is closed (read-only): writes are refused as a conflict. */
  closed: boolean;
  /** Joined history: the member sees only events after this seq (0: the whole history). */
  visible_from_seq: number;
}

/** The rooms service's one rule set, as this service reaches it. */
export interface RoomAccess {
  authorize(roomId: string, actor: Actor, action: RoomAction): Promise<RoomAccessAnswer>;
  /** The user's rooms, each with where their view of it starts (joined history; else 0). */
  roomsOf(userId: string): Promise<Array<{ room_id: string; visible_from_seq: number }>>;
  /** Those of `userIds` who are not members of the room. */
  nonMembers(roomId: string, userIds: string[]): Promise<string[]>;
  /** The room's members now (the recipients of an acknowledgement request). */
  memberIds(roomId: string): Promise<string[]>;
  /** The room of a host object, for its service token (forbidden / not_found otherwise). */
  contextRoom(actor: Actor, context: ContextRef): Promise<{ room_id: string; closed: boolean }>;
}

/** A write in a closed room (DESIGN 10.3). */
export const closedRoom = () => new ChatError('conflict', 'the room is closed: it can be read but not written to');

/** The rooms service's answer, or the error it means. Non-members learn nothing, not even that the room exists. */
export async function requireAccess(rooms: Pick<RoomAccess, 'authorize'>, roomId: string, actor: Actor, action: RoomAction) {
  const decision = await rooms.authorize(roomId, actor, action);
  if (!decision.member) throw ChatError.notFound('room');
  if (!decision.allowed) {
    if (decision.closed && (action === 'message.send' || action === 'message.send_urgent')) throw closedRoom();
    throw ChatError.forbidden(`not allowed: ${action}`);
  }
  return decision;
}
