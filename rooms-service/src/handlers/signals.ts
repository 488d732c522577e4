import type { EphemeralEvent } from '@chat/shared';
import { subjects } from '@chat/shared/nats';
import type { NatsConnection } from 'nats';
import type { RoomSignals } from '../domain/ports.js';

const encoder = new TextEncoder();

/** Ephemeral room signals go out on core NATS, to every gateway holding the room. */
export function roomSignalsOverNats(nc: NatsConnection, namespace: string): RoomSignals {
  return {
    publish(roomId: string, event: EphemeralEvent) {
      nc.publish(subjects.roomSignals(namespace, roomId), encoder.encode(JSON.stringify(event)));
    },
  };
}
