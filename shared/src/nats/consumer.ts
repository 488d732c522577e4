import { type Link, trace } from '@opentelemetry/api';
import { AckPolicy, type ConsumerMessages, DeliverPolicy, type JsMsg, type NatsConnection, nanos } from 'nats';
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
        maxBatch?: number;
        /** How long a batch waits for more messages once the first has arrived (fewer, larger commits). */
        lingerMs?: number;
        handle?: undefined;
      }
  );

export interface RunningConsumer {
  /** Stops pulling, lets the messages in hand finish, and returns. */
  stop(): Promise<void>;
}

/**
 * A durable pull consumer, acked after the handler succeeds: at-least-once, so handlers are
 * idempotent. Replicas share the durable and split the load.
 */
export async function runDurableConsumer(nc: NatsConnection, options: DurableConsumerOptions): Promise<RunningConsumer> {
  const jsm = await nc.jetstreamManager();
  // add() also updates an existing durable whose settings changed (ack_wait after a redeploy).
  await jsm.consumers.add(options.stream, {
    durable_name: options.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: options.filterSubject,
    ack_wait: nanos(options.ackWaitMs ?? 30_000),
    max_ack_pending: options.maxAckPending ?? 1000,
  });
  const consumer = await nc.jetstream().consumers.get(options.stream, options.durable);
  const messages: ConsumerMessages = await consumer.consume({ max_messages: 256 });
  const done = options.handleBatch ? consumeInBatches(messages, options) : consumeOneByOne(messages, options);
  return {
    async stop() {
      messages.stop();
      await done;
    },
  };
}

function consumerSpan(options: ConsumerSettings, message: JsMsg, links: Link[] = []) {
  return {
    kind: SpanKind.CONSUMER,
    parent: extractTraceContext(fromNatsHeaders(message.headers)),
    links,
    attributes: {
      'messaging.system': 'nats',
      'messaging.destination.name': message.subject,
      'messaging.operation.type': 'process',
      'messaging.consumer.group.name': options.durable,
    },
  };
}

async function consumeOneByOne(messages: ConsumerMessages, options: ConsumerSettings & { handle(m: JsMsg): Promise<void> }) {
  for await (const message of messages) {
    try {
      await inSpan(`process ${message.subject}`, consumerSpan(options, message), () => options.handle(message));
      message.ack();
    } catch (error) {
      options.logger.error({ err: error, subject: message.subject, consumer: options.durable }, 'event handling failed; will retry');
      message.nak(options.retryDelayMs ?? 1000);
    }
  }
}

async function consumeInBatches(
  messages: ConsumerMessages,
  options: ConsumerSettings & { handleBatch(m: JsMsg[]): Promise<void>; maxBatch?: number; lingerMs?: number },
) {
  const queue: JsMsg[] = [];
  let ended = false;
  let wake: (() => void) | undefined;
  const pulling = (async () => {
    for await (const message of messages) {
      queue.push(message);
      wake?.();
    }
    ended = true;
    wake?.();
  })();
  const maxBatch = options.maxBatch ?? 256;
  for (;;) {
    if (queue.length === 0) {
      if (ended) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
      continue;
    }
    if (options.lingerMs && queue.length < maxBatch && !ended) await new Promise((resolve) => setTimeout(resolve, options.lingerMs));
    const batch = queue.splice(0, maxBatch);
    const [first] = batch as [JsMsg, ...JsMsg[]];
    // The batch continues the first event's trace and links the others, so each trace still shows it.
    const links = batch.slice(1).flatMap((m) => {
      const context = trace.getSpanContext(extractTraceContext(fromNatsHeaders(m.headers)));
      return context ? [{ context }] : [];
    });
    try {
      await inSpan(`process ${first.subject}`, consumerSpan(options, first, links), (span) => {
        span.setAttribute('messaging.batch.message_count', batch.length);
        return options.handleBatch(batch);
      });
      for (const message of batch) message.ack();
    } catch (error) {
      options.logger.error({ err: error, count: batch.length, consumer: options.durable }, 'event batch failed; will retry');
      for (const message of batch) message.nak(options.retryDelayMs ?? 1000);
    }
  }
  await pulling;
}
