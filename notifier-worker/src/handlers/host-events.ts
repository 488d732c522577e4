import type { HostEventType } from '@chat/shared';
import type { Logger } from '@chat/shared/logging';
import {
  durables,
  ensureRoomActivityStream,
  ensureRoomEventStream,
  type RunningConsumer,
  runDurableConsumer,
  streams,
  subjects,
} from '@chat/shared/nats';
import type { Kysely } from 'kysely';
import { DeliverPolicy, type JetStreamManager, type JsMsg, type NatsConnection } from 'nats';
import { enqueueHostEvents, type QueuedHostEvent } from '../db/host-events-repository.js';
import type { NotifyDatabase } from '../db/schema.js';
import { hostEventFromActivity, hostEventFromLog } from '../domain/host-events.js';

export interface HostEventIntake {
  db: Kysely<NotifyDatabase>;
  logger: Logger;
  types: ReadonlySet<HostEventType>;
  streamReplicas: number;
  ackWaitMs: number;
  /** Called after events were queued (the deliverer looks at once instead of at its next poll). */
  onQueued: () => void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Queues a batch in one statement before it is acknowledged. A failed insert is tried again here
 * rather than nak'd: a nak would let later events of the same room overtake the batch.
 */
async function queueBatch(messages: JsMsg[], toEvent: (message: JsMsg) => QueuedHostEvent | null, deps: HostEventIntake): Promise<void> {
  const events: QueuedHostEvent[] = [];
  for (const message of messages) {
    try {
      // Null: a type the host is not sent (or filtered out by EVENTS_WEBHOOK_TYPES).
      const event = toEvent(message);
      if (event) events.push(event);
    } catch {
      deps.logger.error({ subject: message.subject }, 'skipping an event that is not JSON');
    }
  }
  for (let attempt = 1; ; attempt++) {
    try {
      if (events.length) await enqueueHostEvents(deps.db, events);
      break;
    } catch (error) {
      if (attempt >= 5) throw error;
      deps.logger.warn({ err: error, attempt, count: events.length }, 'could not queue host events; retrying');
      await sleep(200 * 2 ** attempt);
    }
  }
  if (events.length) deps.onQueued();
}

/**
 * The event webhook's inputs, two durable consumers: the room event stream (persisted events in
 * seq order) and the room activity stream (membership, room changes, reports). They exist only
 * where the webhook is configured; made then, they start with what is new (`DeliverPolicy.New`),
 * not with the week of history the streams keep.
 */
export async function runHostEventIntake(nc: NatsConnection, namespace: string, deps: HostEventIntake): Promise<RunningConsumer[]> {
  const intake = (
    stream: string,
    durable: string,
    filterSubject: string,
    ensureStream: (jsm: JetStreamManager) => Promise<void>,
    toEvent: (message: JsMsg) => QueuedHostEvent | null,
  ) =>
    runDurableConsumer(nc, {
      logger: deps.logger,
      ackWaitMs: deps.ackWaitMs,
      maxBatch: 256,
      deliverPolicy: DeliverPolicy.New,
      stream,
      durable,
      filterSubject,
      ensureStream,
      handleBatch: (messages) => queueBatch(messages, toEvent, deps),
    });
  const log = await intake(
    streams.roomEvents(namespace),
    durables.hostEvents(namespace),
    subjects.allRoomEvents(namespace),
    (jsm) => ensureRoomEventStream(jsm, namespace, deps.streamReplicas),
    (m) => hostEventFromLog(m.json(), new Date(m.info.timestampNanos / 1e6), deps.types),
  );
  const activity = await intake(
    streams.roomActivity(namespace),
    durables.hostActivity(namespace),
    subjects.allRoomActivity(namespace),
    (jsm) => ensureRoomActivityStream(jsm, namespace, deps.streamReplicas),
    (m) => hostEventFromActivity(m.json(), m.seq, deps.types),
  );
  return [log, activity];
}
