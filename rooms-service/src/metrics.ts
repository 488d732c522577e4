import { durables, registerConsumerLagMetrics, streams } from '@chat/shared/nats';
import type { Registry } from '@chat/shared/ops';
import type { NatsConnection } from 'nats';

/** The rooms service's own metrics (RPC and Node metrics come with the runtime): the projection's lag. */
export function registerRoomsMetrics(registry: Registry, nc: NatsConnection, namespace: string): void {
  registerConsumerLagMetrics(registry, nc, streams.roomEvents(namespace), [durables.roomsProjection(namespace)]);
}
