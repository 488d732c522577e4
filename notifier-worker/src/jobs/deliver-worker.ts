import type { Logger } from '@chat/shared/logging';
import { type Job, UnrecoverableError } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import type { NotifyDatabase } from '../db/schema.js';
import type { PushProvider } from '../providers/provider.js';
import type { PushFunnel } from './funnel.js';
import type { DeliverJob } from './queues.js';

export interface DeliverDeps {
  db: Kysely<NotifyDatabase>;
  redis: Redis;
  namespace: string;
  providers: Partial<Record<DeliverJob['target']['platform'], PushProvider>>;
  funnel: PushFunnel;
  logger: Logger;
}

/**
 * Sends one notification to one device. Accepted deliveries are remembered by job id, so a job
 * that runs again (a worker died after the provider accepted) sends nothing more; the provider
 * also gets the id (webhook `X-Chat-Delivery-Id`, APNs `apns-id`) to drop a repeat itself.
 */
export async function processDeliverJob(job: Job<DeliverJob>, deps: DeliverDeps): Promise<string> {
  const { target, notification } = job.data;
  const deliveredKey = `${deps.namespace}:notify:delivered:${job.id}`;
  if (await deps.redis.exists(deliveredKey)) return 'already_delivered';
  const provider = deps.providers[target.platform];
  if (!provider) throw new UnrecoverableError(`no ${target.platform} provider is configured`);
  deps.funnel.sent(target.platform);
  const outcome = await provider.send(target, notification, job.id ?? '');
  switch (outcome.status) {
    case 'accepted':
      await deps.redis.set(deliveredKey, '1', 'EX', 7 * 24 * 3600);
      deps.funnel.accepted(target.platform);
      return 'accepted';
    case 'permanent':
      deps.funnel.failed(target.platform, 'permanent');
      await deps.db.deleteFrom('notify.devices').where('token', '=', target.token).execute();
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
