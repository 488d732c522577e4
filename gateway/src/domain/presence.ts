/**
 * Who of a room's members is online, as a subscribe's ack tells it. Presence is told for rooms up
 * to `maxRoomMembers` (PRESENCE_MAX_ROOM_MEMBERS); a larger room, or one whose member list is not
 * known here, answers an empty list, so a huge room never costs a lookup per member.
 */
export function onlineMembersOf(
  isOnline: (userId: string) => Promise<boolean>,
  maxRoomMembers: number,
): (memberIds: ReadonlySet<string> | null) => Promise<string[]> {
  return async (memberIds) => {
    if (!memberIds || memberIds.size > maxRoomMembers) return [];
    const ids = [...memberIds];
    const online = await Promise.all(ids.map((id) => isOnline(id)));
    return ids.filter((_, i) => online[i]);
  };
}
