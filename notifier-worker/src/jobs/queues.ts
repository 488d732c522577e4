import { type ConnectionOptions, Queue } from 'bullmq';
import { BullMQOtel } from 'bullmq-otel';
import type { Notification, Target } from '../providers/provider.js';

/** A user's pending messages in a room, coalesced into one push when the window closes. */
export interface CoalesceJob {
  user_id: string;
  room_id: string;
}

/** Refresh a user's badge on their devices after they read elsewhere. */
export interface BadgeJob {
  user_id: string;
}

/** One notification to one device. Its job id is its delivery id: stable across retries and restarts. */
export interface DeliverJob {
  target: Target;
  notification: Notification;
}

export const QUEUE_NAMES = { coalesce: 'push-coalesce', deliver: 'push-deliver' } as const;

/** Every BullMQ key of the stack sits under `<namespace>:bull`. */
export const bullPrefix = (namespace: string) => `${namespace}:bull`;

/** BullMQ's OpenTelemetry integration: jobs carry the trace context of whoever added them. */
export const bullTelemetry = () => new BullMQOtel('chat-notifier');

export function createQueues(connection: ConnectionOptions, namespace: string) {
  const prefix = bullPrefix(namespace);
  const telemetry = bullTelemetry();
  return {
    coalesce: new Queue<CoalesceJob | BadgeJob>(QUEUE_NAMES.coalesce, { connection, prefix, telemetry }),
    deliver: new Queue<DeliverJob>(QUEUE_NAMES.deliver, { connection, prefix, telemetry }),
  };
}
export type PushQueues = ReturnType<typeof createQueues>;

/** Exponential back-off with jitter (50-100% of the step), so retries after an outage spread out. */
export function backoffWithJitter(baseMs: number): (attemptsMade: number) => number {
  return (attemptsMade) => Math.round(baseMs * 2 ** Math.max(0, attemptsMade - 1) * (0.5 + Math.random() / 2));
}
