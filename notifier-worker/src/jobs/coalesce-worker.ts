import type { Job } from 'bullmq';
import { devicesOf } from '../db/devices-repository.js';
import { composePush } from '../domain/push-content.js';
import { settingsVerdict } from '../domain/recipients.js';
import type { Notification } from '../providers/provider.js';
import { hashOf } from './batches.js';
import type { PushPipeline } from './ports.js';
import type { BadgeJob, CoalesceJob } from './queues.js';

export interface CoalesceDeps extends PushPipeline {
  deliveryAttempts: number;
}

/**
 * When a user's window for a room closes: take the batch, re-check everything that may have
 * changed meanwhile (came online, read elsewhere, deleted, muted, notify level), and hand one
 * push per device to the delivery queue under ids derived from this job, so a retried job
 * creates no second delivery.
 */
export async function processCoalesceJob(job: Job<CoalesceJob | BadgeJob>, deps: CoalesceDeps): Promise<string> {
  if (job.name === 'badge') return refreshBadge(job as Job<BadgeJob>, deps);
  const { user_id: userId, room_id: roomId } = job.data as CoalesceJob;
  const jobId = job.id ?? '';
  const entries = await deps.batches.take(userId, roomId, jobId);
  if (entries.length === 0) return 'empty';
  const finish = async (outcome: string) => {
    await deps.batches.release(userId, roomId, jobId);
    // One line per decision: what on-call reads to answer "why did (or didn't) this push arrive?"
    deps.logger.info({ user_id: userId, room_id: roomId, messages: entries.length, outcome }, 'push decision');
    return outcome;
  };
  if (await deps.sources.presence.isOnline(userId)) {
    deps.funnel.suppressed('online', entries.length);
    return finish('online');
  }
  const facts = await deps.sources.pushFacts(roomId, [userId]);
  const member = facts.members[0];
  if (!facts.room || !member) {
    deps.funnel.suppressed('not_member', entries.length);
    return finish('not_member');
  }
  const states = await deps.sources.messageStates(
    roomId,
    entries.map((e) => e.messageId),
  );
  const now = new Date();
  const keep = states.filter((message) => {
    const verdict = settingsVerdict(member, message, now);
    if (verdict) deps.funnel.suppressed(verdict);
    return verdict === null;
  });
  if (keep.length === 0) return finish('suppressed');
  const devices = await devicesOf(deps.db, userId);
  if (devices.length === 0) {
    deps.funnel.suppressed('no_device', keep.length);
    return finish('no_device');
  }
  const push = composePush(userId, facts.room, keep, await deps.sources.unreadTotal(userId));
  await enqueueDeliveries(deps, jobId, devices, { kind: 'alert', push });
  return finish(`queued ${devices.length}`);
}

async function refreshBadge(job: Job<BadgeJob>, deps: CoalesceDeps): Promise<string> {
  const devices = await devicesOf(deps.db, job.data.user_id);
  if (devices.length === 0) return 'no_device';
  const badge = await deps.sources.unreadTotal(job.data.user_id);
  // The badge job id repeats per user; its creation time makes each run's deliveries distinct.
  await enqueueDeliveries(deps, `${job.id}-${job.timestamp}`, devices, { kind: 'badge', user_id: job.data.user_id, badge });
  return `badge ${badge}`;
}

async function enqueueDeliveries(
  deps: CoalesceDeps,
  origin: string,
  devices: Awaited<ReturnType<typeof devicesOf>>,
  notification: Notification,
): Promise<void> {
  await deps.queues.deliver.addBulk(
    devices.map((device) => ({
      name: notification.kind,
      data: { target: { token: device.token, platform: device.platform, app_id: device.app_id }, notification },
      opts: {
        jobId: `d-${origin}-${hashOf(device.token)}`,
        attempts: deps.deliveryAttempts,
        backoff: { type: 'custom' },
        removeOnComplete: { age: 24 * 3600, count: 10_000 },
        removeOnFail: false,
      },
    })),
  );
  deps.funnel.queued(devices.length);
}
