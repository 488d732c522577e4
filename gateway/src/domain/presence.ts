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
