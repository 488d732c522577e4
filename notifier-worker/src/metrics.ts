import { durables, registerConsumerLagMetrics, streams } from '@chat/shared/nats';
import { declareMetrics, type Registry } from '@chat/shared/ops';
import type { Kysely } from 'kysely';
import type { NatsConnection } from 'nats';
import { hostEventBacklog } from './db/host-events-repository.js';
import { ledgerHealth } from './db/ledger-repository.js';
import type { NotifyDatabase } from './db/schema.js';
import type { PushFunnel } from './jobs/funnel.js';
import type { PushQueues } from './jobs/queues.js';

/** The push funnel and queue depth, as Prometheus metrics. */
export function createPushMetrics(registry: Registry, queues: PushQueues): PushFunnel {
  const declare = declareMetrics(registry);
  const considered = declare.counter('chat_push_considered_total', 'Recipients considered for a push (members other than the sender)');
  const suppressed = declare.counter('chat_push_suppressed_total', 'Pushes not sent, by reason', ['reason']);
  const queued = declare.counter('chat_push_queued_total', 'Deliveries queued (one per device)');
  const sent = declare.counter('chat_push_sent_total', 'Delivery attempts made to a provider', ['platform']);
  const accepted = declare.counter('chat_push_accepted_total', 'Deliveries the provider accepted', ['platform']);
  const failed = declare.counter(
    'chat_push_failed_total',
    'Delivery attempts that failed, by kind (transient: retried; permanent: token pruned; rejected: dead-lettered)',
    ['platform', 'kind'],
  );
  declare.scrapedByLabel('chat_push_queue_jobs', 'Jobs in the push queues by state', ['queue', 'state'], async (gauge) => {
    for (const [name, queue] of Object.entries(queues)) {
      const counts = await queue.getJobCounts('waiting', 'delayed', 'active', 'failed');
      for (const [state, count] of Object.entries(counts)) gauge.set({ queue: name, state }, count);
    }
  });
  return {
    considered: (count) => considered.inc(count),
    suppressed: (reason, count = 1) => suppressed.inc({ reason }, count),
    queued: (count) => queued.inc(count),
    sent: (platform) => sent.inc({ platform }),
    accepted: (platform) => accepted.inc({ platform }),
    failed: (platform, kind) => failed.inc({ platform, kind }),
  };
}

/** The decision consumer's lag behind the room event stream. */
export function registerDecisionLagMetrics(registry: Registry, nc: NatsConnection, namespace: string): void {
  registerConsumerLagMetrics(registry, nc, streams.roomEvents(namespace), [durables.notifier(namespace)]);
}

/** The push ledger's health: what the sweep re-queued, what is unfinished, how overdue the oldest is. */
export function createLedgerMetrics(registry: Registry, db: Kysely<NotifyDatabase>): (kind: 'coalesce' | 'deliver', count: number) => void {
  const declare = declareMetrics(registry);
  const requeued = declare.counter(
    'chat_push_requeued_total',
    'Ledger entries the sweep queued again because their job was lost (Redis data loss, dead worker), by stage',
    ['stage'],
  );
  let health: Promise<{ unfinished: number; overdueSeconds: number }> | undefined;
  // One query serves both gauges of a scrape.
  const read = () => {
    health ??= ledgerHealth(db).finally(() => setTimeout(() => (health = undefined), 1000));
    return health;
  };
  declare.scraped(
    'chat_push_ledger_unfinished',
    'Pushes due but not yet delivered or dropped (open due rows plus pending batches)',
    async () => (await read()).unfinished,
  );
  declare.scraped(
    'chat_push_ledger_overdue_seconds',
    'How far past its lease the oldest unfinished ledger entry is (0 when none is overdue)',
    async () => (await read()).overdueSeconds,
  );
  return (stage, count) => requeued.inc({ stage }, count);
}

/** The event webhook: attempts by outcome, and what waits (pending) or gave up (dead letters). */
export function createHostEventMetrics(
  registry: Registry,
  db: Kysely<NotifyDatabase>,
): (outcome: 'delivered' | 'retried' | 'dead', type: string) => void {
  const declare = declareMetrics(registry);
  const attempts = declare.counter(
    'chat_host_events_attempts_total',
    'Event webhook attempts, by outcome (delivered, retried, dead: became a dead letter) and event type',
    ['outcome', 'type'],
  );
  declare.scrapedByLabel(
    'chat_host_events_backlog',
    'Event webhook rows by state: pending (queued or retrying) and dead (dead letters awaiting replay)',
    ['state'],
    async (gauge) => {
      const backlog = await hostEventBacklog(db).catch(() => undefined);
      if (!backlog) return;
      gauge.set({ state: 'pending' }, backlog.pending);
      gauge.set({ state: 'dead' }, backlog.dead);
    },
  );
  return (outcome, type) => attempts.inc({ outcome, type });
}
