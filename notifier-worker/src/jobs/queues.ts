import { type ConnectionOptions, Queue } from 'bullmq';
import { BullMQOtel } from 'bullmq-otel';
import type { OpenPair } from '../db/ledger-repository.js';
import type { Notification, Target } from '../providers/provider.js';
import { coalesceJobId } from './ids.js';

/** A user's due pushes in a room, coalesced into one push per device when the window closes. */
export interface CoalesceJob {
  user_id: string;
  room_id: string;
}

/** Refresh a user's badge on their devices after they read elsewhere. */
export interface BadgeJob {
  user_id: string;
}

/**
 * One delivery. `batch_id`: a coalesced push of the ledger (the job id is the batch id, its
 * delivery id on every attempt). `target` + `notification`: a silent badge refresh, not ledgered.
 */
export type DeliverJob = { batch_id: string } | { target: Target; notification: Notification };

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

/** Coalescing jobs for pairs with new due rows; ids per first seq, so a repeat adds nothing. */
export async function scheduleCoalesce(queues: PushQueues, pairs: readonly OpenPair[], delayMs: number, suffix = ''): Promise<void> {
  if (pairs.length === 0) return;
  await queues.coalesce.addBulk(
    pairs.map((pair) => ({
      name: 'coalesce',
      data: { user_id: pair.user_id, room_id: pair.room_id },
      opts: {
        jobId: coalesceJobId(pair.user_id, pair.room_id, pair.first_seq, suffix),
        delay: delayMs,
        attempts: 5,
        backoff: { type: 'custom' },
        removeOnComplete: { age: 3600, count: 10_000 },
        removeOnFail: { age: 7 * 24 * 3600 },
      },
    })),
  );
}

/** A ledger batch's delivery job; its id is the batch id, so re-queuing a live job adds nothing. */
export async function scheduleDelivery(deliver: Queue<DeliverJob>, batchIds: readonly string[], attempts: number): Promise<void> {
  if (batchIds.length === 0) return;
  await deliver.addBulk(
    batchIds.map((id) => ({
      name: 'alert',
      data: { batch_id: id },
      opts: {
        jobId: id,
        attempts,
        backoff: { type: 'custom' },
        removeOnComplete: { age: 24 * 3600, count: 10_000 },
        removeOnFail: { age: 7 * 24 * 3600 },
      },
    })),
  );
}

/** Exponential back-off with jitter (50-100% of the step), so retries after an outage spread out. */
export function backoffWithJitter(baseMs: number): (attemptsMade: number) => number {
  return (attemptsMade) => Math.round(baseMs * 2 ** Math.max(0, attemptsMade - 1) * (0.5 + Math.random() / 2));
}
