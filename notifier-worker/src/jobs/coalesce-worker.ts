import { randomUUID } from 'node:crypto';
import { currentTraceparent, extractTraceContext, inSpan } from '@chat/shared/telemetry';
import type { Job } from 'bullmq';
import { devicesOf } from '../db/devices-repository.js';
import { claimDue, insertBatch, settleTaken, takeOpenDue } from '../db/ledger-repository.js';
import { composePush, pushGroups } from '../domain/push-content.js';
import { settingsVerdict } from '../domain/recipients.js';
import type { Notification } from '../providers/provider.js';
import { hashOf } from './ids.js';
import type { PushPipeline } from './ports.js';
import { type BadgeJob, type CoalesceJob, scheduleCoalesce, scheduleDelivery } from './queues.js';

export interface CoalesceDeps extends PushPipeline {
  deliveryAttempts: number;
  leaseMs: number;
  /** NOTIFY_COALESCE_MS: rows left behind by a job start a window of their own. */
  coalesceMs: number;
}

/**
 * When a user's window for a room closes: take what is due from the ledger, re-check everything
 * that may have changed meanwhile (came online, read elsewhere, deleted, muted, notify level), and
 * turn it into one batch per device, in one transaction that marks each due row as taken, so a
 * second run of this job (a retry, a re-queue by the sweep) finds nothing left to take.
 */
export async function processCoalesceJob(job: Job<CoalesceJob | BadgeJob>, deps: CoalesceDeps): Promise<string> {
  if (job.name === 'badge') return refreshBadge(job as Job<BadgeJob>, deps);
  const { user_id: userId, room_id: roomId } = job.data as CoalesceJob;
  const open = await takeOpenDue(deps.db, userId, roomId, deps.leaseMs);
  if (open.length === 0) return 'empty';
  // The push continues the trace of the (first) message it is about.
  const parent = extractTraceContext(open[0]?.traceparent ? { traceparent: open[0].traceparent } : undefined);
  return inSpan('push coalesce', { parent, attributes: { 'chat.room_id': roomId, 'chat.push.due': open.length } }, async () => {
    const outcome = await coalesce(userId, roomId, open, deps, String(job.id));
    // One line per decision: what on-call reads to answer "why did (or didn't) this push arrive?"
    deps.logger.info({ user_id: userId, room_id: roomId, messages: new Set(open.map((r) => r.message_id)).size, outcome }, 'push decision');
    return outcome;
  });
}

async function coalesce(
  userId: string,
  roomId: string,
  open: Awaited<ReturnType<typeof takeOpenDue>>,
  deps: CoalesceDeps,
  jobId: string,
): Promise<string> {
  const messageIds = [...new Set(open.map((r) => r.message_id))];
  const drop = async (reason: string) => {
    const { left } = await settleTaken(deps.db, userId, roomId, async (trx) => {
      for (const [token, ids] of byDevice(open)) await claimDue(trx, token, ids, `dropped:${reason}`);
    });
    await scheduleLeftOver(userId, roomId, left, deps, jobId);
    return reason;
  };
  if (await deps.sources.presence.isOnline(userId)) {
    deps.funnel.suppressed('online', messageIds.length);
    return drop('online');
  }
  const facts = await deps.sources.pushFacts(roomId, [userId]);
  const member = facts.members[0];
  if (!facts.room || !member) {
    deps.funnel.suppressed('not_member', messageIds.length);
    return drop('not_member');
  }
  const states = await deps.sources.messageStates(roomId, messageIds);
  const now = new Date();
  const keep = states.filter((message) => {
    const verdict = settingsVerdict(member, message, now);
    if (verdict) deps.funnel.suppressed(verdict);
    return verdict === null;
  });
  if (keep.length === 0) return drop('suppressed');
  const devices = new Map((await devicesOf(deps.db, userId)).map((d) => [d.token, d]));
  const badge = await deps.sources.unreadTotal(userId);
  const keptIds = new Set(keep.map((m) => m.id));
  const traceparent = currentTraceparent();
  const { result: batches, left } = await settleTaken(deps.db, userId, roomId, async (trx) => {
    const made: string[] = [];
    for (const [token, ids] of byDevice(open)) {
      const device = devices.get(token);
      const wanted = ids.filter((id) => keptIds.has(id));
      // Rows of a device removed since, or of messages suppressed now, are closed as dropped.
      const unwanted = device ? ids.filter((id) => !keptIds.has(id)) : ids;
      await claimDue(trx, token, unwanted, 'dropped:suppressed');
      if (!device || wanted.length === 0) continue;
      // Urgent messages go alone, each in its own batch; the rest together.
      for (const group of pushGroups(keep.filter((m) => wanted.includes(m.id)))) {
        const id = `p-${randomUUID()}`;
        const claimed = new Set(
          await claimDue(
            trx,
            token,
            group.map((m) => m.id),
            id,
          ),
        );
        if (claimed.size === 0) continue;
        const messages = group.filter((m) => claimed.has(m.id));
        const notification: Notification = {
          kind: 'alert',
          push: composePush(userId, facts.room as NonNullable<typeof facts.room>, messages, badge),
        };
        await insertBatch(trx, {
          id,
          device_token: token,
          user_id: userId,
          room_id: roomId,
          platform: device.platform,
          app_id: device.app_id,
          message_ids: messages.map((m) => m.id),
          notification,
          traceparent,
          leaseMs: deps.leaseMs,
        });
        made.push(id);
      }
    }
    return made;
  });
  if (batches.length > 0) {
    deps.funnel.queued(batches.length);
    try {
      await scheduleDelivery(deps.queues.deliver, batches, deps.deliveryAttempts);
    } catch (error) {
      deps.logger.warn({ err: error, batches: batches.length }, 'could not queue deliveries; the sweep will');
    }
  }
  await scheduleLeftOver(userId, roomId, left, deps, jobId);
  return batches.length === 0 ? 'nothing_left' : `queued ${batches.length}`;
}

/**
 * Rows recorded while this job ran (after it read the ledger) get a job of their own: their
 * recording saw this job's rows open and left them to it. They start a window of their own, as a
 * first row does, so a busy room still gets one push per window, not one per job. Found under the
 * room's lock, so none slips between (see lockRooms); a job lost here (Redis down) is found by
 * the sweep.
 */
async function scheduleLeftOver(
  userId: string,
  roomId: string,
  firstSeq: number | undefined,
  deps: CoalesceDeps,
  parentJobId: string,
): Promise<void> {
  if (firstSeq === undefined) return;
  // Named after this job too: a row recorded twice with the same seq must not find an older
  // follow-up's id taken and be dropped; a retry of this job still adds no second one.
  const suffix = `next-${hashOf(parentJobId).slice(0, 12)}`;
  try {
    await scheduleCoalesce(deps.queues, [{ user_id: userId, room_id: roomId, first_seq: firstSeq }], deps.coalesceMs, suffix);
  } catch (error) {
    deps.logger.warn({ err: error, user_id: userId, room_id: roomId }, 'could not schedule the rows left behind; the sweep will');
  }
}

function byDevice(rows: ReadonlyArray<{ device_token: string; message_id: string }>): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const row of rows) {
    const ids = map.get(row.device_token) ?? [];
    ids.push(row.message_id);
    map.set(row.device_token, ids);
  }
  return map;
}

async function refreshBadge(job: Job<BadgeJob>, deps: CoalesceDeps): Promise<string> {
  const devices = await devicesOf(deps.db, job.data.user_id);
  if (devices.length === 0) return 'no_device';
  const badge = await deps.sources.unreadTotal(job.data.user_id);
  // The badge job id repeats per user; its creation time makes each run's deliveries distinct.
  const origin = `${job.id}-${job.timestamp}`;
  await deps.queues.deliver.addBulk(
    devices.map((device) => ({
      name: 'badge',
      data: {
        target: { token: device.token, platform: device.platform, app_id: device.app_id },
        notification: { kind: 'badge', user_id: job.data.user_id, badge },
      },
      opts: {
        jobId: `d-${origin}-${hashOf(device.token)}`,
        attempts: deps.deliveryAttempts,
        backoff: { type: 'custom' },
        removeOnComplete: { age: 3600, count: 10_000 },
        removeOnFail: { age: 24 * 3600 },
      },
    })),
  );
  return `badge ${badge}`;
}
