import { Counter, Gauge, Histogram, type Registry } from '@chat/shared/ops';
import type { LimitedAction } from './limits/rate-limits.js';
import type { RoomHubMetrics } from './ws/room-hub.js';
import { observeFramesOut } from './ws/session.js';

/** The gateway's Prometheus metrics, as the callbacks its parts report through. */
export function createGatewayMetrics(registry: Registry) {
  const connections = new Gauge({ name: 'chat_gateway_connections', help: 'Open authenticated sockets', registers: [registry] });
  const roomChannels = new Gauge({
    name: 'chat_gateway_room_subscriptions',
    help: 'Rooms with a NATS subscription on this gateway',
    registers: [registry],
  });
  const socketSubscriptions = new Gauge({
    name: 'chat_gateway_socket_subscriptions',
    help: 'Socket-to-room subscriptions on this gateway',
    registers: [registry],
  });
  const framesOut = new Counter({
    name: 'chat_gateway_frames_out_total',
    help: 'Frames written to single sockets (acks, errors, replays; fan-out is counted once per gateway)',
    registers: [registry],
  });
  const replays = new Counter({
    name: 'chat_gateway_subscribe_recoveries_total',
    help: 'Subscribes by recovery outcome: none, replayed, resync',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const gapSizes = new Histogram({
    name: 'chat_gateway_recovery_gap_events',
    help: 'Events a resuming subscriber had missed (since_seq to last seq)',
    buckets: [0, 1, 5, 10, 50, 100, 500, 1000, 5000],
    registers: [registry],
  });
  const framesIn = new Counter({
    name: 'chat_gateway_frames_in_total',
    help: 'Client frames by type',
    labelNames: ['type'],
    registers: [registry],
  });
  const fannedOut = new Counter({
    name: 'chat_gateway_events_fanned_out_total',
    help: 'Room events published to local sockets (once per gateway)',
    registers: [registry],
  });
  const duplicates = new Counter({
    name: 'chat_gateway_duplicate_events_dropped_total',
    help: 'Re-published room events dropped by seq',
    registers: [registry],
  });
  const sendLatency = new Histogram({
    name: 'chat_gateway_send_duration_seconds',
    help: 'message.send from frame to ack',
    buckets: [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });
  const rateLimitOutcomes = new Counter({
    name: 'chat_gateway_rate_limit_total',
    help: 'Rate-limit decisions by action and outcome (allowed, limited, limiter_unavailable)',
    labelNames: ['action', 'outcome'],
    registers: [registry],
  });
  observeFramesOut(() => framesOut.inc());

  const hub: RoomHubMetrics = {
    roomChannels: (delta) => roomChannels.inc(delta),
    socketSubscriptions: (delta) => socketSubscriptions.inc(delta),
    eventFannedOut: () => fannedOut.inc(),
    duplicateDropped: () => duplicates.inc(),
  };
  return {
    hub,
    sockets: { connections: (delta: number) => connections.inc(delta), framesIn: (type: string) => framesIn.inc({ type }) },
    sendDone: (seconds: number) => sendLatency.observe(seconds),
    subscribeRecovered: (outcome: 'none' | 'replayed' | 'resync', missed: number) => {
      replays.inc({ outcome });
      if (outcome !== 'none') gapSizes.observe(missed);
    },
    rateLimitDecision: (action: LimitedAction, outcome: 'allowed' | 'limited' | 'limiter_unavailable') =>
      rateLimitOutcomes.inc({ action, outcome }),
  };
}
