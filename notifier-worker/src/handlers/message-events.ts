import { type RoomEvent, RoomEventSchema } from '@chat/shared';
import {
  durables,
  ensureRoomEventStream,
  messageProcessSpan,
  type RunningConsumer,
  runDurableConsumer,
  streams,
  subjects,
} from '@chat/shared/nats';
import { currentTraceparent, inSpan } from '@chat/shared/telemetry';
import { trace } from '@opentelemetry/api';
import type { JsMsg, NatsConnection } from 'nats';
import { devicesOfUsers } from '../db/devices-repository.js';
import { type DueRow, recordDue, recordRenotify } from '../db/ledger-repository.js';
import { settingsVerdict } from '../domain/recipients.js';
import type { PushPipeline } from '../jobs/ports.js';
import { scheduleCoalesce } from '../jobs/queues.js';

export interface DecisionDeps extends PushPipeline {
  coalesceMs: number;
  ackWaitMs: number;
  leaseMs: number;
  /** The room event stream's replicas (NATS_STREAM_REPLICAS), kept when the consumer re-creates it. */
  streamReplicas: number;
  /** URGENT_RENOTIFY_MS and URGENT_RENOTIFY_MAX (0: messages that ask for acknowledgement are not re-notified). */
  renotify: { everyMs: number; maxRounds: number };
}

/**
 * For one new message: what is due to which device. Members except the sender, allowed by mute
 * and notify level, offline, on each of their devices. Runs in the message's trace; each row
 * keeps that trace context, so the later push joins it.
 */
export async function dueForMessage(event: Pick<RoomEvent, 'type' | 'room_id' | 'message'>, deps: DecisionDeps): Promise<DueRow[]> {
  if (event.type !== 'message.created') return [];
  const { message } = event;
  trace.getActiveSpan()?.setAttributes({ 'chat.room_id': event.room_id, 'chat.message_id': message.id });
  const facts = await deps.sources.pushFacts(event.room_id);
  if (!facts.room) return [];
  // A thread reply also reaches its root's author and repliers as if they were mentioned (DESIGN 10.5).
  const threadParticipants = message.thread_root_id
    ? ((await deps.sources.messageStates(event.room_id, [message.id]))[0]?.thread_participants ?? [])
    : [];
  const now = new Date();
  const candidates = facts.members.filter((member) => {
    const verdict = settingsVerdict(member, { ...message, thread_participants: threadParticipants, deleted: false }, now);
    if (verdict && verdict !== 'sender') deps.funnel.suppressed(verdict);
    return verdict === null;
  });
  deps.funnel.considered(candidates.length);
  const devices = await devicesOfUsers(
    deps.db,
    candidates.map((m) => m.user_id),
  );
  const reachable = [...new Set(devices.map((d) => d.user_id))];
  if (candidates.length > reachable.length) deps.funnel.suppressed('no_device', candidates.length - reachable.length);
  const online = new Set(await deps.sources.presence.onlineAmong(reachable));
  if (online.size) deps.funnel.suppressed('online', online.size);
  const traceparent = currentTraceparent();
  return devices
    .filter((device) => !online.has(device.user_id))
    .map((device) => ({
      device_token: device.token,
      message_id: message.id,
      user_id: device.user_id,
      room_id: event.room_id,
      seq: message.seq,
      traceparent,
    }));
}

/**
 * A batch of events: each decided in its own span, then everything due recorded in one
 * transaction before the events are acknowledged. Coalescing jobs are scheduled after the commit;
 * one lost here (Redis down) is found by the sweep, so a failure to schedule does not hold events.
 */
export async function decideBatch(messages: readonly JsMsg[], durable: string, deps: DecisionDeps): Promise<void> {
  const due: DueRow[] = [];
  const urgent: DueRow[] = [];
  const renotify: Array<{ message_id: string; room_id: string; seq: number; traceparent: string | null }> = [];
  for (const message of messages) {
    const parsed = RoomEventSchema.safeParse(message.json());
    if (!parsed.success) {
      deps.logger.error({ subject: message.subject }, 'skipping malformed room event');
      continue;
    }
    const event = parsed.data;
    if (event.type !== 'message.created') continue;
    const decided = await inSpan(`process ${message.subject}`, messageProcessSpan(durable, message), async () => ({
      rows: await dueForMessage(event, deps),
      traceparent: currentTraceparent(),
    }));
    (event.message.priority === 'urgent' ? urgent : due).push(...decided.rows);
    if (event.message.ack_requested && deps.renotify.maxRounds > 0) {
      renotify.push({ message_id: event.message.id, room_id: event.room_id, seq: event.message.seq, traceparent: decided.traceparent });
    }
  }
  const { inserted, toSchedule } = await recordDue(deps.db, due, { dueInMs: deps.coalesceMs, leaseMs: deps.leaseMs });
  // Urgent messages are due at once, each pair with a job of its own now (never held for a window).
  const now = await recordDue(deps.db, urgent, { dueInMs: 0, leaseMs: deps.leaseMs, everyPair: true });
  // Written before the events are acknowledged: a worker killed now finds the schedule in the ledger.
  await recordRenotify(deps.db, renotify, deps.renotify.everyMs);
  const skipped = due.length + urgent.length - inserted - now.inserted;
  if (skipped > 0) deps.funnel.suppressed('already_pushed', skipped);
  try {
    await scheduleCoalesce(deps.queues, toSchedule, deps.coalesceMs);
    await scheduleCoalesce(deps.queues, now.toSchedule, 0, 'u');
  } catch (error) {
    deps.logger.warn(
      { err: error, pairs: toSchedule.length + now.toSchedule.length },
      'could not schedule coalescing jobs; the sweep will',
    );
  }
}

export function runDecisionConsumer(nc: NatsConnection, namespace: string, deps: DecisionDeps): Promise<RunningConsumer> {
  const durable = durables.notifier(namespace);
  return runDurableConsumer(nc, {
    stream: streams.roomEvents(namespace),
    durable,
    filterSubject: subjects.allRoomEvents(namespace),
    logger: deps.logger,
    ackWaitMs: deps.ackWaitMs,
    // A NATS server that lost its store comes back without the stream: make it again.
    ensureStream: (jsm) => ensureRoomEventStream(jsm, namespace, deps.streamReplicas),
    maxBatch: 128,
    spanPerMessage: true,
    handleBatch: (messages) => decideBatch(messages, durable, deps),
  });
}
