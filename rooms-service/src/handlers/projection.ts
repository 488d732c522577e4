import { RoomEventSchema } from '@chat/shared';
import type { Logger } from '@chat/shared/logging';
import { durables, ensureRoomEventStream, type RunningConsumer, runDurableConsumer, streams, subjects } from '@chat/shared/nats';
import type { Kysely } from 'kysely';
import type { NatsConnection } from 'nats';
import { applyMessageEvents, type ProjectedEvent } from '../db/projection-repository.js';
import type { RoomsDatabase } from '../db/schema.js';

/** Keeps last message, activity order and unread bookkeeping in step with the room event stream. */
export function runRoomsProjection(
  nc: NatsConnection,
  db: Kysely<RoomsDatabase>,
  namespace: string,
  logger: Logger,
  streamReplicas: number,
): Promise<RunningConsumer> {
  return runDurableConsumer(nc, {
    stream: streams.roomEvents(namespace),
    durable: durables.roomsProjection(namespace),
    filterSubject: subjects.allRoomEvents(namespace),
    logger,
    // A NATS server that lost its store comes back without the stream: make it again.
    // With the configured replicas: re-creating it with fewer would shrink a replicated stream.
    ensureStream: (jsm) => ensureRoomEventStream(jsm, namespace, streamReplicas),
    // The read model may trail by a few ms; in exchange a busy room costs one commit per batch.
    lingerMs: 20,
    async handleBatch(messages) {
      const events: ProjectedEvent[] = [];
      for (const message of messages) {
        const parsed = RoomEventSchema.safeParse(message.json());
        // A malformed event can never succeed; retrying it forever would block the consumer.
        if (parsed.success) events.push(parsed.data);
        else logger.error({ subject: message.subject, issues: parsed.error.issues.slice(0, 3) }, 'skipping malformed room event');
      }
      await applyMessageEvents(db, events);
    },
  });
}
