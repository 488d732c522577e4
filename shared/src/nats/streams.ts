import { type JetStreamManager, nanos, RetentionPolicy, StorageType, type StreamConfig } from 'nats';
import { streams, subjects } from './subjects.js';

/**
 * The JetStream stream of persisted room events. Postgres' event log stays the record (replay
 * reads it); the stream feeds durable consumers (rooms projection, notifier) and de-duplicates
 * the outbox relay's re-publishes by message id.
 */
export function roomEventStreamConfig(namespace: string): Partial<StreamConfig> & { name: string } {
  return {
    name: streams.roomEvents(namespace),
    subjects: [subjects.allRoomEvents(namespace)],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: nanos(7 * 24 * 3600 * 1000),
    duplicate_window: nanos(10 * 60 * 1000),
  };
}

/** Creates the stream, or brings an existing one to the expected config; safe from every replica. */
export async function ensureRoomEventStream(jsm: JetStreamManager, namespace: string): Promise<void> {
  const config = roomEventStreamConfig(namespace);
  try {
    await jsm.streams.info(config.name);
    await jsm.streams.update(config.name, config);
  } catch (error) {
    if (!(error instanceof Error) || !/stream not found/i.test(error.message)) throw error;
    try {
      await jsm.streams.add(config);
    } catch (addError) {
      // Another replica created it between our info and add.
      if (!(addError instanceof Error) || !/already in use|exists/i.test(addError.message)) throw addError;
    }
  }
}
