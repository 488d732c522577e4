/**
 * The unique key of the direct room of two users, the same whoever creates it. JSON keeps user
 * ids that contain separators from colliding.
 */
export function directRoomKey(a: string, b: string): string {
  return JSON.stringify(a < b ? [a, b] : [b, a]);
}
