import { type Link, trace } from '@opentelemetry/api';
import { AckPolicy, type Consumer, DeliverPolicy, type JetStreamManager, type JsMsg, type NatsConnection, nanos } from 'nats';
import type { Logger } from 'pino';
import { extractTraceContext, inSpan, SpanKind } from '../telemetry/context.js';
import { fromNatsHeaders } from './client.js';

interface ConsumerSettings {
  stream: string;
  durable: string;
  filterSubject: string;
  logger: Logger;
  retryDelayMs?: number;
  maxAckPending?: number;
  /** An unacknowledged message is redelivered after this long (a consumer died with it in hand). */
  ackWaitMs?: number;
  /** Messages asked for per pull request (and the most a batch handler gets at once). */
  maxBatch?: number;
  /** How long one pull request waits on the server; a lost request is noticed after about this long. */
  fetchExpiresMs?: number;
  /**
   * Creates the stream again when it is gone (a NATS server that restarted without its store).
   * Without it only the consumer is re-created, and the loop waits for someone else to make the stream.
   */
  ensureStream?: (jsm: JetStreamManager) => Promise<void>;
  /**
   * Where a durable that does not exist yet starts: `All` (default) reads the stream's retained
   * history; `New` only what arrives after it was made (a feature switched on later).
   */
  deliverPolicy?: DeliverPolicy.All | DeliverPolicy.New;
}

export type DurableConsumerOptions = ConsumerSettings &
  (
    | {
        /** Throws to have the message redelivered after `retryDelayMs`. */
        handle(message: JsMsg): Promise<void>;
        handleBatch?: undefined;
      }
    | {
        /**
         * Handles every message that arrived while the previous batch was being handled (up to
         * `maxBatch`), so the cost of a commit is shared. Throws to have the whole batch redelivered.
         */
        handleBatch(messages: JsMsg[]): Promise<void>;
        /** How long a batch waits for more messages once the first has arrived (fewer, larger commits). */
        lingerMs?: number;
        /** The handler traces each message itself (see messageProcessSpan): no span for the batch. */
        spanPerMessage?: boolean;
        handle?: undefined;
      }
  );

export interface RunningConsumer {
  /** Stops pulling, lets the messages in hand finish, and returns. */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A durable pull consumer, acked after the handler succeeds: at-least-once, so handlers are
 * idempotent. Replicas share the durable and split the load.
 *
 * It pulls with short-lived fetches (`fetchExpiresMs`) in a loop that heals itself: a fetch lost
 * with a NATS restart ends by its own deadline, and a consumer (or stream) that vanished with a
 * server's store is created again, with back-off, and logged as an error until it works again.
 */
export async function runDurableConsumer(nc: NatsConnection, options: DurableConsumerOptions): Promise<RunningConsumer> {
  const maxBatch = options.maxBatch ?? 256;
  const expires = options.fetchExpiresMs ?? 5000;
  const setup = async (): Promise<Consumer> => {
    const jsm = await nc.jetstreamManager();
    if (options.ensureStream) await options.ensureStream(jsm);
    // add() also updates an existing durable whose settings changed (ack_wait after a redeploy).
    await jsm.consumers.add(options.stream, {
      durable_name: options.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: options.deliverPolicy ?? DeliverPolicy.All,
      filter_subject: options.filterSubject,
      ack_wait: nanos(options.ackWaitMs ?? 30_000),
      max_ack_pending: options.maxAckPending ?? 1000,
    });
    return nc.jetstream().consumers.get(options.stream, options.durable);
  };
  let consumer: Consumer | undefined = await setup();

  const queue: JsMsg[] = [];
  let stopped = false;
  let pullEnded = false;
  let wakeProcessor: (() => void) | undefined;
  let wakePuller: (() => void) | undefined;
  let current: { stop(): void } | undefined;

  const pulling = (async () => {
    let failures = 0;
    while (!stopped) {
      if (queue.length >= maxBatch) {
        // Back-pressure: what is fetched but not handled still counts against the ack wait.
        await new Promise<void>((resolve) => {
          wakePuller = resolve;
        });
        wakePuller = undefined;
        continue;
      }
      try {
        consumer ??= await setup();
        if (failures > 0) options.logger.warn({ consumer: options.durable, failures }, 'JetStream consumer recovered');
        const startedAt = Date.now();
        const messages = await consumer.fetch({ max_messages: maxBatch - queue.length, expires });
        current = messages;
        // The server ends a fetch at `expires`; a request lost with a restarting server never
        // ends by itself, so this deadline does it.
        const watchdog = setTimeout(() => messages.stop(), expires + 2000);
        let received = 0;
        try {
          for await (const message of messages) {
            received++;
            queue.push(message);
            wakeProcessor?.();
          }
        } finally {
          clearTimeout(watchdog);
          current = undefined;
        }
        failures = 0;
        // A fetch that ended at once with nothing (a server going away) must not spin.
        if (received === 0 && Date.now() - startedAt < 100) await sleep(200);
      } catch (error) {
        if (stopped) break;
        failures++;
        const delay = Math.min(200 * 2 ** Math.min(failures - 1, 5), 5000);
        options.logger.error(
          { err: error, consumer: options.durable, stream: options.stream, failures, retry_in_ms: delay },
          'JetStream consumer failed; re-creating it',
        );
        consumer = undefined;
        await sleep(delay);
      }
    }
    pullEnded = true;
    wakeProcessor?.();
  })();

  const take = async (): Promise<JsMsg[] | undefined> => {
    for (;;) {
      if (queue.length > 0) {
        const lingerMs = options.handleBatch ? options.lingerMs : undefined;
        if (lingerMs && queue.length < maxBatch && !pullEnded) await sleep(lingerMs);
        const batch = queue.splice(0, options.handleBatch ? maxBatch : 1);
        wakePuller?.();
        return batch;
      }
      if (pullEnded) return undefined;
      await new Promise<void>((resolve) => {
        wakeProcessor = resolve;
      });
      wakeProcessor = undefined;
    }
  };

  const processing = (async () => {
    for (;;) {
      const batch = await take();
      if (!batch) break;
      if (options.handleBatch) await handleBatch(batch, options);
      else await handleOne(batch[0] as JsMsg, options);
    }
  })();

  return {
    async stop() {
      stopped = true;
      current?.stop();
      wakePuller?.();
      await pulling;
      await processing;
    },
  };
}

function consumerSpan(durable: string, message: JsMsg, links: Link[] = []) {
  return {
    kind: SpanKind.CONSUMER,
    parent: extractTraceContext(fromNatsHeaders(message.headers)),
    links,
    attributes: {
      'messaging.system': 'nats',
      'messaging.destination.name': message.subject,
      'messaging.operation.type': 'process',
      'messaging.consumer.group.name': durable,
    },
  };
}

async function handleOne(message: JsMsg, options: ConsumerSettings & { handle(m: JsMsg): Promise<void> }): Promise<void> {
  try {
    await inSpan(`process ${message.subject}`, consumerSpan(options.durable, message), () => options.handle(message));
    message.ack();
  } catch (error) {
    options.logger.error({ err: error, subject: message.subject, consumer: options.durable }, 'event handling failed; will retry');
    message.nak(options.retryDelayMs ?? 1000);
  }
}

async function handleBatch(
  batch: JsMsg[],
  options: ConsumerSettings & { handleBatch(m: JsMsg[]): Promise<void>; spanPerMessage?: boolean },
): Promise<void> {
  const [first] = batch as [JsMsg, ...JsMsg[]];
  // The batch continues the first event's trace and links the others, so each trace still shows it.
  const links = () => messageLinks(batch.slice(1));
  try {
    if (options.spanPerMessage) await options.handleBatch(batch);
    else {
      await inSpan(`process ${first.subject}`, consumerSpan(options.durable, first, links()), (span) => {
        span.setAttribute('messaging.batch.message_count', batch.length);
        return options.handleBatch(batch);
      });
    }
    for (const message of batch) message.ack();
  } catch (error) {
    options.logger.error({ err: error, count: batch.length, consumer: options.durable }, 'event batch failed; will retry');
    for (const message of batch) message.nak(options.retryDelayMs ?? 1000);
  }
}

/** Links to the traces the messages carry (a batch span that works for all of them). */
export function messageLinks(messages: readonly JsMsg[]): Link[] {
  return messages.flatMap((m) => {
    const context = trace.getSpanContext(extractTraceContext(fromNatsHeaders(m.headers)));
    return context ? [{ context }] : [];
  });
}

/** The span options of one message's processing, for batch handlers that trace each message. */
export function messageProcessSpan(durable: string, message: JsMsg) {
  return consumerSpan(durable, message);
}
