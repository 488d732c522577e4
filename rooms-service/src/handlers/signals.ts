import type { EphemeralEvent, RoomActivity } from '@chat/shared';
import type { Logger } from '@chat/shared/logging';
import { publishRoomSignal, type RoomActivityPublisher, subjects } from '@chat/shared/nats';
import { runEvery } from '@chat/shared/ops';
import type { NatsConnection } from 'nats';
import type { RoomSignals, RoomsStore } from '../domain/ports.js';

/**
 * Ephemeral room signals go out on core NATS, to every gateway holding the room. Host events
 * (already in the activity outbox) go to the room activity stream (JetStream), where the event
 * webhook's durable consumer reads them, each with its outbox id as JetStream's de-duplication
 * id; the outbox row goes once JetStream has it.
 */
export function roomSignalsOverNats(
  nc: NatsConnection,
  namespace: string,
  activity: RoomActivityPublisher,
  outbox: Pick<RoomsStore, 'forgetActivity'>,
  logger: Logger,
): RoomSignals {
  // Queued and not yet in JetStream: a sweep that finds their rows leaves them to this queue.
  const queued = new Set<string>();
  return {
    publish(roomId: string, event: EphemeralEvent) {
      publishRoomSignal(nc, namespace, roomId, event);
    },
    recorded(events: readonly RoomActivity[]) {
      for (const event of events) {
        if (queued.has(event.id)) continue;
        queued.add(event.id);
        const taken = activity.publish(event.room_id, event.type, event.data, {
          id: event.id,
          occurredAt: event.occurred_at,
          onRecorded: () => {
            queued.delete(event.id);
            outbox
              .forgetActivity(event.id)
              .catch((error: unknown) =>
                logger.warn({ err: error, event_id: event.id }, 'activity outbox row not deleted; a sweep records it again'),
              );
          },
        });
        // Not taken (the queue is full): the row stays, and a later sweep offers it again.
        if (!taken) queued.delete(event.id);
      }
    },
    accessChanged(roomId: string) {
      nc.publish(subjects.accessChanged(namespace, roomId));
    },
  };
}

/**
 * Records again the host events that an earlier process committed but JetStream never
 * acknowledged (killed in between): their outbox rows are still there after `olderThanMs`.
 * Runs at start and then every `everyMs`; JetStream drops a repeat it already holds (same id).
 */
export function runActivitySweep(
  store: Pick<RoomsStore, 'unrecordedActivity'>,
  signals: Pick<RoomSignals, 'recorded'>,
  options: { everyMs: number; olderThanMs: number; logger: Logger },
) {
  return runEvery(
    options.everyMs,
    async () => {
      const events = await store.unrecordedActivity(options.olderThanMs, 500);
      if (events.length === 0) return;
      options.logger.warn({ events: events.length }, 're-recording host events an earlier process left in the activity outbox');
      signals.recorded(events);
    },
    { logger: options.logger, what: 'activity outbox sweep' },
  );
}
