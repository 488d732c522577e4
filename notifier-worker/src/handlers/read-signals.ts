import type { Logger } from '@chat/shared/logging';
import { subscribeRoomSignals } from '@chat/shared/nats';
import type { NatsConnection } from 'nats';
import { hashOf } from '../jobs/ids.js';
import type { PushQueues } from '../jobs/queues.js';

/**
 * When a user reads a room anywhere, their phones' badges are refreshed with a silent push (one
 * per user per second at most). Read signals are ephemeral: a worker that misses one only leaves
 * a badge stale until the next push or read.
 */
export function subscribeReadSignals(nc: NatsConnection, namespace: string, queues: PushQueues, logger: Logger): { unsubscribe(): void } {
  return subscribeRoomSignals(
    nc,
    namespace,
    ['read'],
    (signal) => {
      if (signal.type !== 'read') return;
      queues.coalesce
        .add(
          'badge',
          { user_id: signal.user_id },
          { jobId: `b-${hashOf(signal.user_id)}`, delay: 1000, removeOnComplete: true, removeOnFail: { age: 3600 } },
        )
        .catch((failure: unknown) => logger.warn({ err: failure }, 'could not schedule a badge refresh'));
    },
    { queue: `${namespace}-notifier` },
  );
}
