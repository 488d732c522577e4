import { Counter, Gauge, type Registry } from '@chat/shared/ops';
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
