import { declareMetrics, type Registry } from '@chat/shared/ops';
import type { LimitedAction } from './limits/rate-limits.js';
import type { RoomHubMetrics } from './ws/room-hub.js';
import { observeFramesOut } from './ws/session.js';

// Client-chosen close codes would make unbounded label values; the rest count as `other`.
const KNOWN_CLOSE_CODES = new Set([1000, 1001, 1005, 1006, 1009, 1011, 1012, 4001, 4003, 4008, 4009]);

/** The gateway's Prometheus metrics, as the callbacks its parts report through. */
export function createGatewayMetrics(registry: Registry) {
  const declare = declareMetrics(registry);
  const connections = declare.gauge('chat_gateway_connections', 'Open authenticated sockets');
  const roomChannels = declare.gauge('chat_gateway_room_subscriptions', 'Rooms with a NATS subscription on this gateway');
  const socketSubscriptions = declare.gauge('chat_gateway_socket_subscriptions', 'Socket-to-room subscriptions on this gateway');
  const framesIn = declare.counter('chat_gateway_frames_in_total', 'Client frames by type', ['type']);
  const framesOut = declare.counter(
    'chat_gateway_frames_out_total',
    'Frames written to single sockets (acks, errors, replays; fan-out is counted once per gateway)',
  );
  const closes = declare.counter(
    'chat_gateway_socket_closes_total',
    'Closed sockets by close code (4009 and 1006: too slow to read, back-pressure; 1012: drain)',
    ['code'],
  );
  const socketFaults = declare.counter(
    'chat_gateway_socket_faults_total',
    'Exceptions caught at the socket edge instead of ending the process, by reason',
    ['reason'],
  );
  const replays = declare.counter('chat_gateway_subscribe_recoveries_total', 'Subscribes by recovery outcome: none, replayed, resync', [
    'outcome',
  ]);
  const gapSizes = declare.histogram(
    'chat_gateway_recovery_gap_events',
    'Events a resuming subscriber had missed (since_seq to last seq)',
    [0, 1, 5, 10, 50, 100, 500, 1000, 5000],
  );
  const replayedEvents = declare.counter(
    'chat_gateway_replayed_events_total',
    'Missed events replayed to resuming subscribers (since_seq)',
  );
  const replayedBytes = declare.counter('chat_gateway_replayed_bytes_total', 'Bytes of the events replayed to resuming subscribers');
  const fannedOut = declare.counter('chat_gateway_events_fanned_out_total', 'Room events published to local sockets (once per gateway)');
  const duplicates = declare.counter('chat_gateway_duplicate_events_dropped_total', 'Re-published room events dropped by seq');
  const filledFromLog = declare.counter(
    'chat_gateway_events_filled_from_log_total',
    'Room events fanned out from the log because a later seq arrived first and they did not follow within the hold time',
  );
  const sendLatency = declare.histogram(
    'chat_gateway_send_duration_seconds',
    'message.send from frame to ack',
    [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
  );
  const rateLimitOutcomes = declare.counter(
    'chat_gateway_rate_limit_total',
    'Rate-limit decisions by action and outcome (allowed, limited, limiter_unavailable)',
    ['action', 'outcome'],
  );
  const blobsSwept = declare.counter(
    'chat_gateway_attachment_blobs_swept_total',
    'Attachment blobs nobody could reach any more (abandoned uploads, deleted messages), by outcome: deleted, failed',
    ['outcome'],
  );
  observeFramesOut(() => framesOut.inc());

  // Every label value a dashboard or alert reads starts at 0: a series born at its first
  // increment has no earlier sample, so rate() and increase() miss that first burst (the drain's
  // 1012 closes, the first resyncs, a first socket fault).
  for (const code of [...KNOWN_CLOSE_CODES, 'other']) closes.inc({ code: String(code) }, 0);
  for (const outcome of ['none', 'replayed', 'resync']) replays.inc({ outcome }, 0);
  for (const reason of ['write_after_close', 'handler_threw', 'upgrade_aborted']) socketFaults.inc({ reason }, 0);

  const hub: RoomHubMetrics = {
    roomChannels: (delta) => roomChannels.inc(delta),
    socketSubscriptions: (delta) => socketSubscriptions.inc(delta),
    eventFannedOut: () => fannedOut.inc(),
    duplicateDropped: () => duplicates.inc(),
    filledFromLog: (count) => filledFromLog.inc(count),
  };
  return {
    hub,
    blobSwept: (outcome: 'deleted' | 'failed', count: number) => blobsSwept.inc({ outcome }, count),
    sockets: {
      connections: (delta: number) => connections.inc(delta),
      framesIn: (type: string) => framesIn.inc({ type }),
      closed: (code: number) => closes.inc({ code: KNOWN_CLOSE_CODES.has(code) ? String(code) : 'other' }),
    },
    sendDone: (seconds: number) => sendLatency.observe(seconds),
    subscribeRecovered: (outcome: 'none' | 'replayed' | 'resync', missed: number, events = 0, bytes = 0) => {
      replays.inc({ outcome });
      if (outcome !== 'none') gapSizes.observe(missed);
      replayedEvents.inc(events);
      replayedBytes.inc(bytes);
    },
    socketFault: (reason: string) => socketFaults.inc({ reason }),
    rateLimitDecision: (action: LimitedAction, outcome: 'allowed' | 'limited' | 'limiter_unavailable') =>
      rateLimitOutcomes.inc({ action, outcome }),
  };
}
