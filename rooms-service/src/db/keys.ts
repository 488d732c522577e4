/**
 * Composite keys of the rooms tables, for `where((eb) => eb.and(key))` and inserts. Filter objects
 * only: kysely compiles an array value in one to `= (…)`, not `in`, so sets of ids keep `'in'`.
 */

/** One member of one room (rooms.members, rooms.bans). */
export const membership = (roomId: string, userId: string) => ({ room_id: roomId, user_id: userId });

/** Who blocked whom (rooms.blocks). */
export const block = (blockerId: string, blockedId: string) => ({ blocker_id: blockerId, blocked_id: blockedId });
