import type { EphemeralEvent, HostEventData, RoomActivityType } from '@chat/shared';
import { publishRoomSignal, type RoomActivityPublisher, subjects } from '@chat/shared/nats';
import type { NatsConnection } from 'nats';
import type { RoomSignals } from '../domain/ports.js';

/**
 * Ephemeral room signals go out on core NATS, to every gateway holding the room. Membership and
 * room changes are also recorded on the room activity stream (JetStream), where the event
 * webhook's durable consumer reads them: core NATS alone would lose them while it is down.
 */
export function roomSignalsOverNats(nc: NatsConnection, namespace: string, activity: RoomActivityPublisher): RoomSignals {
  return {
    publish(roomId: string, event: EphemeralEvent) {
      publishRoomSignal(nc, namespace, roomId, event);
      switch (event.type) {
        case 'member.added':
        case 'member.removed':
          activity.publish(roomId, event.type, { user_id: event.user_id });
          break;
        case 'room.updated':
          activity.publish(roomId, event.type, { room: event.room });
          break;
      }
    },
    record<T extends RoomActivityType>(roomId: string, type: T, data: HostEventData<T>) {
      activity.publish(roomId, type, data);
    },
    accessChanged(roomId: string) {
      nc.publish(subjects.accessChanged(namespace, roomId));
    },
  };
}
