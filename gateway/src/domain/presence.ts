/**
 * Who of a room's members is online, as a subscribe's ack tells it. Presence is told for rooms up
 * to `maxRoomMembers` (PRESENCE_MAX_ROOM_MEMBERS); a larger room, or one whose member list is not
 * known here, answers an empty list, so a huge room never costs a lookup per member.
 */
export function onlineMembersOf(
  isOnline: (userId: string) => Promise<boolean>,
  maxRoomMembers: number,
): (memberIds: readonly string[] | null) => Promise<string[]> {
  return async (memberIds) => {
    if (!memberIds || memberIds.length > maxRoomMembers) return [];
    const online = await Promise.all(memberIds.map((id) => isOnline(id)));
    return memberIds.filter((_, i) => online[i]);
  };
}

/**
 * Whether a user is online: one with a socket on this gateway is, without asking anyone (the
 * registry may not even have their claim yet); anyone else is asked of the registry.
 */
export function onlineHereFirst(
  connectedHere: (userId: string) => boolean,
  askRegistry: (userId: string) => Promise<boolean>,
): (userId: string) => Promise<boolean> {
  return (userId) => (connectedHere(userId) ? Promise.resolve(true) : askRegistry(userId));
}
