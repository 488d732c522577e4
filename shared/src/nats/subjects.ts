/**
 * The internal NATS subjects, written once: the processes build them from here and the AsyncAPI
 * document (docs/asyncapi-nats.json) renders them with `{placeholders}` for the parts. All live
 * under the namespace so that stacks sharing one NATS never see each other.
 */
export const subjects = {
  /** `<namespace>.rpc.<service>.<name>`: request/reply endpoints. */
  rpc: (ns: string, service: string, name: string) => `${ns}.rpc.${service}.${name}`,
  /** Persisted room events, published by the messages service's outbox relay into JetStream. */
  roomEvents: (ns: string, roomId: string) => `${ns}.room.${roomId}.event`,
  allRoomEvents: (ns: string) => `${ns}.room.*.event`,
  /**
   * Ephemeral room signals (typing, read, presence, membership), core NATS only. The type is the
   * subject's tail, so a service that needs one kind (membership, reads) is not sent every keystroke.
   */
  roomSignal: (ns: string, roomId: string, type: string) => `${ns}.room.${roomId}.signal.${type}`,
  allRoomSignalsOfType: (ns: string, type: string) => `${ns}.room.*.signal.${type}`,
  /**
   * Room activity for the host application (membership, room changes, reports: DESIGN 10.4),
   * persisted in its own JetStream stream. Outside `room.<id>.>` on purpose: gateways never get it.
   */
  roomActivity: (ns: string, roomId: string, type: string) => `${ns}.activity.${roomId}.${type}`,
  allRoomActivity: (ns: string) => `${ns}.activity.>`,
  /**
   * "Who may do what in this room changed" without any visible change (a block between a direct
   * room's members): services drop cached access answers. Outside `room.<id>.>`: clients never see it.
   */
  accessChanged: (ns: string, roomId: string) => `${ns}.access.${roomId}`,
  allAccessChanged: (ns: string) => `${ns}.access.*`,
  /** Everything a gateway needs for one room: one subscription per room per gateway. */
  roomAll: (ns: string, roomId: string) => `${ns}.room.${roomId}.>`,
} as const;

/** The queue group (and NATS micro service name) of a service's endpoints: its replicas share the load. */
export const rpcQueueGroup = (ns: string, service: string) => `${ns}-${service}`;

/** JetStream names allow no dots; the namespace is already restricted to [A-Za-z0-9_-]. */
export const streams = {
  roomEvents: (ns: string) => `${ns}_room_events`,
  roomActivity: (ns: string) => `${ns}_room_activity`,
} as const;

/** Durable consumers of the room event stream (shared by every replica of their process). */
export const durables = {
  roomsProjection: (ns: string) => `${ns}_rooms_projection`,
  notifier: (ns: string) => `${ns}_notifier`,
  /** The event webhook's two inputs (notifier worker, only when EVENTS_WEBHOOK_URL is set). */
  hostEvents: (ns: string) => `${ns}_host_events`,
  hostActivity: (ns: string) => `${ns}_host_activity`,
  /** The messages service's search indexer (search documents written off the send path). */
  searchIndex: (ns: string) => `${ns}_search_index`,
} as const;
