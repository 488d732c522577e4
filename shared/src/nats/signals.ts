import type { NatsConnection, Subscription } from 'nats';
import type { EphemeralEvent } from '../contracts/frames.js';
import { subjects } from './subjects.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Room signals are ephemeral, on core NATS, to every gateway holding the room and to the services. */
export function publishRoomSignal(nc: NatsConnection, namespace: string, roomId: string, signal: EphemeralEvent): void {
  nc.publish(subjects.roomSignals(namespace, roomId), encoder.encode(JSON.stringify(signal)));
}

/**
 * Signals are not validated on receipt: every producer is typed by `EphemeralEvent` and they
 * arrive per keystroke (typing), so only a payload that is not JSON is refused (null).
 */
export function decodeRoomSignal(data: Uint8Array): EphemeralEvent | null {
  try {
    return JSON.parse(decoder.decode(data)) as EphemeralEvent;
  } catch {
    return null;
  }
}

/** Every room's signals; with `queue`, one member of the queue group gets each. */
export function subscribeRoomSignals(
  nc: NatsConnection,
  namespace: string,
  onSignal: (signal: EphemeralEvent) => void,
  options: { queue?: string } = {},
): Subscription {
  return nc.subscribe(subjects.allRoomSignals(namespace), {
    ...options,
    callback: (error, msg) => {
      const signal = error ? null : decodeRoomSignal(msg.data);
      if (signal) onSignal(signal);
    },
  });
}
