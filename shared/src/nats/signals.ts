import type { NatsConnection, Subscription } from 'nats';
import type { EphemeralEvent } from '../contracts/frames.js';
import { subjects } from './subjects.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Room signals are ephemeral, on core NATS, to every gateway holding the room and to the services. */
export function publishRoomSignal(nc: NatsConnection, namespace: string, roomId: string, signal: EphemeralEvent): void {
  nc.publish(subjects.roomSignal(namespace, roomId, signal.type), encoder.encode(JSON.stringify(signal)));
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

/** Every room's signals of these types; with `queue`, one member of the queue group gets each. */
export function subscribeRoomSignals(
  nc: NatsConnection,
  namespace: string,
  types: ReadonlyArray<EphemeralEvent['type']>,
  onSignal: (signal: EphemeralEvent) => void,
  options: { queue?: string } = {},
): { unsubscribe(): void } {
  const subscriptions: Subscription[] = types.map((type) =>
    nc.subscribe(subjects.allRoomSignalsOfType(namespace, type), {
      ...options,
      callback: (error, msg) => {
        const signal = error ? null : decodeRoomSignal(msg.data);
        if (signal) onSignal(signal);
      },
    }),
  );
  return {
    unsubscribe() {
      for (const subscription of subscriptions) subscription.unsubscribe();
    },
  };
}
