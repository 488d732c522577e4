import { durables, registerConsumerLagMetrics, streams } from '@chat/shared/nats';
import { Counter, Gauge, type Registry } from '@chat/shared/ops';
import type { Kysely } from 'kysely';
import type { NatsConnection } from 'nats';
import { hostEventBacklog } from './db/host-events-repository.js';
import { ledgerHealth } from './db/ledger-repository.js';
import type { NotifyDatabase } from './db/schema.js';
import type { PushFunnel } from './jobs/funnel.js';
import type { PushQueues } from './jobs/queues.js';

/** The push funnel and queue depth, as Prometheus metrics. */
export function createPushMetrics(registry: Registry, queues: PushQueues): PushFunnel {
  const considered = new Counter({
    name: 'chat_push_considered_total',
    help: 'Recipients considered for a push (members other than the sender)',
    registers: [registry],
  });
  const suppressed = new Counter({
    name: 'chat_push_suppressed_total',
    help: 'Pushes not sent, by reason',
    labelNames: ['reason'],
    registers: [registry],
  });
  const queued = new Counter({ name: 'chat_push_queued_total', help: 'Deliveries queued (one per device)', registers: [registry] });
  const sent = new Counter({
    name: 'chat_push_sent_total',
    help: 'Delivery attempts made to a provider',
    labelNames: ['platform'],
    registers: [registry],
  });
  const accepted = new Counter({
    name: 'chat_push_accepted_total',
    help: 'Deliveries the provider accepted',
    labelNames: ['platform'],
    registers: [registry],
  });
  const failed = new Counter({
    name: 'chat_push_failed_total',
    help: 'Delivery attempts that failed, by kind (transient: retried; permanent: token pruned; rejected: dead-lettered)',
    labelNames: ['platform', 'kind'],
    registers: [registry],
  });
  new Gauge({
    name: 'chat_push_queue_jobs',
    help: 'Jobs in the push queues by state',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      for (const [name, queue] of Object.entries(queues)) {
        const counts = await queue.getJobCounts('waiting', 'delayed', 'active', 'failed');
        for (const [state, count] of Object.entries(counts)) this.set({ queue: name, state }, count);
      }
    },
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
  const requeued = new Counter({
    name: 'chat_push_requeued_total',
    help: 'Ledger entries the sweep queued again because their job was lost (Redis data loss, dead worker), by stage',
    labelNames: ['stage'],
    registers: [registry],
  });
  let health: Promise<{ unfinished: number; overdueSeconds: number }> | undefined;
  // One query serves both gauges of a scrape.
  const read = () => {
    health ??= ledgerHealth(db).finally(() => setTimeout(() => (health = undefined), 1000));
    return health;
  };
  new Gauge({
    name: 'chat_push_ledger_unfinished',
    help: 'Pushes due but not yet delivered or dropped (open due rows plus pending batches)',
    registers: [registry],
    async collect() {
      this.set((await read()).unfinished);
    },
  });
  new Gauge({
    name: 'chat_push_ledger_overdue_seconds',
    help: 'How far past its lease the oldest unfinished ledger entry is (0 when none is overdue)',
    registers: [registry],
    async collect() {
      this.set((await read()).overdueSeconds);
    },
  });
  return (stage, count) => requeued.inc({ stage }, count);
}

/** The event webhook: attempts by outcome, and what waits (pending) or gave up (dead letters). */
export function createHostEventMetrics(
  registry: Registry,
  db: Kysely<NotifyDatabase>,
): (outcome: 'delivered' | 'retried' | 'dead', type: string) => void {
  const attempts = new Counter({
    name: 'chat_host_events_attempts_total',
    help: 'Event webhook attempts, by outcome (delivered, retried, dead: became a dead letter) and event type',
    labelNames: ['outcome', 'type'],
    registers: [registry],
  });
  new Gauge({
    name: 'chat_host_events_backlog',
    help: 'Event webhook rows by state: pending (queued or retrying) and dead (dead letters awaiting replay)',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const backlog = await hostEventBacklog(db).catch(() => undefined);
      if (!backlog) return;
      this.set({ state: 'pending' }, backlog.pending);
      this.set({ state: 'dead' }, backlog.dead);
    },
  });
  return (outcome, type) => attempts.inc({ outcome, type });
}
