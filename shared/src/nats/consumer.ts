import { AckPolicy, type ConsumerMessages, DeliverPolicy, type JsMsg, type NatsConnection, nanos } from 'nats';
import type { Logger } from 'pino';
import { extractTraceContext, inSpan, SpanKind } from '../telemetry/context.js';
import { fromNatsHeaders } from './client.js';

export interface DurableConsumerOptions {
  stream: string;
  durable: string;
  filterSubject: string;
  logger: Logger;
  /** Throws to have the message redelivered after `retryDelayMs`. */
  handle(message: JsMsg): Promise<void>;
  retryDelayMs?: number;
  maxAckPending?: number;
  /** An unacknowledged message is redelivered after this long (a consumer died with it in hand). */
  ackWaitMs?: number;
}

export interface RunningConsumer {
  /** Stops pulling, lets the message in hand finish, and returns. */
  stop(): Promise<void>;
}

/**
 * A durable pull consumer processed one message at a time, acked after the handler succeeds:
 * at-least-once, so handlers are idempotent. Replicas share the durable and split the load.
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
  const done = (async () => {
    for await (const message of messages) {
      try {
        await inSpan(
          `process ${message.subject}`,
          {
            kind: SpanKind.CONSUMER,
            parent: extractTraceContext(fromNatsHeaders(message.headers)),
            attributes: {
              'messaging.system': 'nats',
              'messaging.destination.name': message.subject,
              'messaging.operation.type': 'process',
              'messaging.consumer.group.name': options.durable,
            },
          },
          () => options.handle(message),
        );
        message.ack();
      } catch (error) {
        options.logger.error({ err: error, subject: message.subject, consumer: options.durable }, 'event handling failed; will retry');
        message.nak(options.retryDelayMs ?? 1000);
      }
    }
  })();
  return {
    async stop() {
      messages.stop();
      await done;
    },
  };
}
