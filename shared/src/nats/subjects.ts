/**
 * The internal NATS subjects (documented in docs/asyncapi-nats.yaml). All live under the
 * namespace so that stacks sharing one NATS never see each other.
 */
export const subjects = {
  /** Persisted room events, published by the messages service's outbox relay into JetStream. */
  roomEvents: (ns: string, roomId: string) => `${ns}.room.${roomId}.event`,
  allRoomEvents: (ns: string) => `${ns}.room.*.event`,
  /**
   * Ephemeral room signals (typing, read, presence, membership), core NATS only. The type is the
   * subject's tail, so a service that needs one kind (membership, reads) is not sent every keystroke.
   */
  roomSignal: (ns: string, roomId: string, type: string) => `${ns}.room.${roomId}.signal.${type}`,
  allRoomSignalsOfType: (ns: string, type: string) => `${ns}.room.*.signal.${type}`,
  /** Everything a gateway needs for one room: one subscription per room per gateway. */
  roomAll: (ns: string, roomId: string) => `${ns}.room.${roomId}.>`,
} as const;

/** JetStream names allow no dots; the namespace is already restricted to [A-Za-z0-9_-]. */
export const streams = {
  roomEvents: (ns: string) => `${ns}_room_events`,
} as const;
