import type { EphemeralEvent } from '@chat/shared';

/** Ephemeral room signals (membership, read, presence) reach the gateways through this. */
export interface RoomSignals {
  publish(roomId: string, event: EphemeralEvent): void;
}

/** The authoritative last seq of a room (the messages service owns the sequence). */
export interface SequenceSource {
  lastSeq(roomId: string): Promise<number>;
}
