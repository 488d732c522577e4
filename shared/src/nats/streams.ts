import { type JetStreamManager, type NatsConnection, nanos, RetentionPolicy, StorageType, type StreamConfig } from 'nats';
import type { Logger } from 'pino';
import { streams, subjects } from './subjects.js';

/**
 * The JetStream stream of persisted room events. Postgres' event log stays the record (replay
 * reads it); the stream feeds durable consumers (rooms projection, notifier) and de-duplicates
 * the outbox relay's re-publishes by message id.
 */
export function roomEventStreamConfig(namespace: string, replicas = 1): Partial<StreamConfig> & { name: string } {
  return weekLongStream(streams.roomEvents(namespace), subjects.allRoomEvents(namespace), replicas);
}

/**
 * A file stream that keeps a week (a consumer that was down catches up) and drops a message id
 * seen in the last 10 minutes (a publisher's retry after a lost ack is stored once). `replicas`:
 * 3 on a 3-node cluster, so the stream and its consumers survive the loss of any one node.
 */
export function weekLongStream(name: string, subject: string, replicas: number): Partial<StreamConfig> & { name: string } {
  return {
    name,
    num_replicas: replicas,
    subjects: [subject],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: nanos(7 * 24 * 3600 * 1000),
    duplicate_window: nanos(10 * 60 * 1000),
  };
}

/** Creates the stream, or brings an existing one to the expected config; safe from every replica. */
export async function ensureRoomEventStream(jsm: JetStreamManager, namespace: string, replicas = 1): Promise<void> {
  await ensureStream(jsm, roomEventStreamConfig(namespace, replicas));
}

/** Creates a stream, or brings an existing one to `config`; safe from every replica. */
export async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<void> {
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

/**
 * Ensures the stream, retrying while JetStream does not answer: a cluster that is starting or
 * electing its meta leader answers "temporarily unavailable" or not at all for a few seconds, and
 * a process started alongside it must wait rather than crash-loop. Gives up after `timeoutMs`.
 */
export async function ensureRoomEventStreamWhenReady(
  nc: NatsConnection,
  namespace: string,
  options: { replicas: number; logger: Logger; timeoutMs?: number; retryMs?: number },
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (let attempt = 1; ; attempt++) {
    try {
      await ensureRoomEventStream(await nc.jetstreamManager(), namespace, options.replicas);
      if (attempt > 1) options.logger.info({ attempt }, 'JetStream answered; room event stream ready');
      return;
    } catch (error) {
      if (Date.now() >= deadline) throw error;
      options.logger.warn({ err: error, attempt }, 'JetStream is not answering yet; retrying');
      await new Promise((resolve) => setTimeout(resolve, options.retryMs ?? 1000));
    }
  }
}
