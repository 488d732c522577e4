import type { Logger } from '@chat/shared/logging';
import { extractTraceContext, inSpan } from '@chat/shared/telemetry';
import { type Job, UnrecoverableError } from 'bullmq';
import type { Kysely } from 'kysely';
import { pruneDevice } from '../db/devices-repository.js';
import { deliveredAmong, finishBatch, postponeBatch, recordDelivered, startAttempt } from '../db/ledger-repository.js';
import type { NotifyDatabase } from '../db/schema.js';
import type { DeliveryOutcome, Notification, PushProvider, Target } from '../providers/provider.js';
import type { PushFunnel } from './funnel.js';
import type { DeliverJob } from './queues.js';

export interface DeliverDeps {
  db: Kysely<NotifyDatabase>;
  providers: Partial<Record<Target['platform'], PushProvider>>;
  funnel: PushFunnel;
  logger: Logger;
  leaseMs: number;
  /** The back-off before attempt n+1, so a batch waiting for its retry is not taken for lost. */
  backoffMs: (attemptsMade: number) => number;
}

/**
 * Sends one batch to one device. What the device was given is recorded (per message) in the same
 * transaction that closes the batch, so a batch that runs again sends nothing; only a crash
 * between the provider's answer and that commit repeats a delivery, with the same delivery id
 * (webhook-id, apns-id), so the receiver can drop it.
 */
export async function processDeliverJob(job: Job<DeliverJob>, deps: DeliverDeps): Promise<string> {
  const data = job.data;
  if (!('batch_id' in data)) {
    const outcome = await send(deps, data.target, data.notification, job.id ?? '');
    return settle(outcome, data.target, deps);
  }
  const batch = await startAttempt(deps.db, data.batch_id, deps.leaseMs);
  if (!batch) return 'not_pending';
  const parent = extractTraceContext(batch.traceparent ? { traceparent: batch.traceparent } : undefined);
  return inSpan('push deliver', { parent, attributes: { 'chat.room_id': batch.room_id, 'chat.delivery_id': batch.id } }, async () => {
    const already = await deliveredAmong(deps.db, batch.device_token, batch.message_ids);
    if (already.size === batch.message_ids.length) {
      await finishBatch(deps.db, batch.id, 'delivered', null);
      return 'already_delivered';
    }
    const target: Target = { token: batch.device_token, platform: batch.platform, app_id: batch.app_id };
    const outcome = await send(deps, target, batch.notification as Notification, batch.id);
    switch (outcome.status) {
      case 'accepted':
        await recordDelivered(deps.db, batch);
        break;
      case 'permanent':
        await finishBatch(deps.db, batch.id, 'dropped', outcome.reason);
        break;
      case 'rejected':
        await finishBatch(deps.db, batch.id, 'dead', outcome.reason);
        break;
      case 'transient':
        await postponeBatch(deps.db, batch.id, deps.backoffMs(job.attemptsMade + 1) + deps.leaseMs, outcome.reason);
        break;
    }
    return settle(outcome, target, deps);
  });
}

async function send(deps: DeliverDeps, target: Target, notification: Notification, deliveryId: string): Promise<DeliveryOutcome> {
  const provider = deps.providers[target.platform];
  if (!provider) throw new UnrecoverableError(`no ${target.platform} provider is configured`);
  deps.funnel.sent(target.platform);
  return provider.send(target, notification, deliveryId);
}

async function settle(outcome: DeliveryOutcome, target: Target, deps: DeliverDeps): Promise<string> {
  switch (outcome.status) {
    case 'accepted':
      deps.funnel.accepted(target.platform);
      return 'accepted';
    case 'permanent':
      deps.funnel.failed(target.platform, 'permanent');
      await pruneDevice(deps.db, target.token);
      deps.logger.info({ platform: target.platform, reason: outcome.reason }, 'push token is dead; device removed');
      return 'pruned';
    case 'rejected':
      deps.funnel.failed(target.platform, 'rejected');
      throw new UnrecoverableError(outcome.reason);
    case 'transient':
      deps.funnel.failed(target.platform, 'transient');
      throw new Error(outcome.reason);
  }
}
