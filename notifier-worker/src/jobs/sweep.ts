import type { Logger } from '@chat/shared/logging';
import { runEvery } from '@chat/shared/ops';
import type { Kysely } from 'kysely';
import { finishBatch, leaseOverdueBatches, leaseOverdueDue, purgeLedger } from '../db/ledger-repository.js';
import type { NotifyDatabase } from '../db/schema.js';
import { type PushQueues, scheduleCoalesce, scheduleDelivery } from './queues.js';

export interface SweepDeps {
  db: Kysely<NotifyDatabase>;
  queues: PushQueues;
  logger: Logger;
  leaseMs: number;
  deliveryAttempts: number;
  retentionHours: number;
  onRequeued(kind: 'coalesce' | 'deliver', count: number): void;
}

const PAGE = 500;

/**
 * Finds what the ledger says is due but nobody is working on (a lease that ran out: a job lost
 * with Redis' data, a worker that died), and queues it again. A delivery whose job failed for
 * good becomes a dead letter here. Safe in every worker at once (rows are leased with skip locked).
 */
export async function sweepOnce(deps: SweepDeps): Promise<{ coalesce: number; deliver: number }> {
  let coalesce = 0;
  for (;;) {
    const pairs = await leaseOverdueDue(deps.db, deps.leaseMs, PAGE);
    if (pairs.length === 0) break;
    await scheduleCoalesce(deps.queues, pairs, 0, `s${Date.now()}`);
    coalesce += pairs.length;
    if (pairs.length < PAGE) break;
  }
  let deliver = 0;
  for (;;) {
    const ids = await leaseOverdueBatches(deps.db, deps.leaseMs, PAGE);
    if (ids.length === 0) break;
    const lost: string[] = [];
    for (const id of ids) {
      const job = await deps.queues.deliver.getJob(id);
      if (!job) lost.push(id);
      else if ((await job.getState()) === 'failed') await finishBatch(deps.db, id, 'dead', job.failedReason ?? 'failed');
    }
    await scheduleDelivery(deps.queues.deliver, lost, deps.deliveryAttempts);
    deliver += lost.length;
    if (ids.length < PAGE) break;
  }
  if (coalesce) deps.onRequeued('coalesce', coalesce);
  if (deliver) deps.onRequeued('deliver', deliver);
  if (coalesce || deliver) deps.logger.warn({ coalesce, deliver }, 'push ledger sweep re-queued work whose job was lost');
  return { coalesce, deliver };
}

/** Sweeps every `intervalMs` (and purges old ledger rows hourly) until stopped. */
export function startSweeper(deps: SweepDeps, intervalMs: number): { stop(): Promise<void> } {
  let lastPurge = 0;
  return runEvery(
    intervalMs,
    async () => {
      await sweepOnce(deps);
      if (Date.now() - lastPurge > 3600_000) {
        lastPurge = Date.now();
        await purgeLedger(deps.db, deps.retentionHours);
      }
    },
    { logger: deps.logger, what: 'push ledger sweep' },
  );
}
