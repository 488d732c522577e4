import type { EphemeralEvent } from '@chat/shared';
import { publishRoomSignal } from '@chat/shared/nats';
import type { NatsConnection } from 'nats';
import type { RoomSignals } from '../domain/ports.js';

/** Ephemeral room signals go out on core NATS, to every gateway holding the room. */
export function roomSignalsOverNats(nc: NatsConnection, namespace: string): RoomSignals {
  return {
    publish(roomId: string, event: EphemeralEvent) {
      publishRoomSignal(nc, namespace, roomId, event);
    },
  };
}
