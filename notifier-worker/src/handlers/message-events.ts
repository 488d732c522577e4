import { type RoomEvent, RoomEventSchema } from '@chat/shared';
import {
  durables,
  ensureRoomEventStream,
  messageLinks,
  messageProcessSpan,
  type RunningConsumer,
  runDurableConsumer,
  streams,
  subjects,
} from '@chat/shared/nats';
import { currentTraceparent, inSpan } from '@chat/shared/telemetry';
import type { JsMsg, NatsConnection } from 'nats';
import { devicesOfUsers } from '../db/devices-repository.js';
import { type DueRow, type DueTiming, recordDue, recordRenotify } from '../db/ledger-repository.js';
import type { DeviceRow } from '../db/schema.js';
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
  /** Due rows made before they are written (DUE_ROWS_PER_WRITE unless a test sets it). */
  dueRowsPerWrite?: number;
}

type CreatedEvent = Pick<RoomEvent, 'room_id' | 'message'>;
type PushFacts = Awaited<ReturnType<DecisionDeps['sources']['pushFacts']>>;
/** Rooms whose facts are asked for at the same time while a batch is decided. */
const ROOMS_AT_ONCE = 16;
/**
 * Due rows made before they are written. A batch of 128 messages in a room of 10,000 members with
 * two devices each is 2.56 million rows: made all at once they took 1.1 GB of heap in a
 * reproduction, over twice the notifier's. Written every 50,000 rows, in the batch's one
 * transaction, a batch holds at most that plus one message's rows (10,000 members ×
 * DEVICES_MAX_PER_USER), besides what grows with its pairs (one coalescing job each).
 */
const DUE_ROWS_PER_WRITE = 50_000;
/** What deciding needs: the ledger's database (devices), the other services, the funnel. */
export type DecisionLookups = Pick<DecisionDeps, 'db' | 'sources' | 'funnel'>;

/** What a batch of new messages is due to bring: for each message, its rows, one per device. */
export interface PushPlan {
  /** Whether the batch's `index`th message is due to anyone. */
  hasRows(index: number): boolean;
  /** The rows of the batch's `index`th message, each with the message's trace context, made when asked for. */
  rowsFor(index: number, traceparent: string | null): DueRow[];
}

/**
 * For a batch of new messages: who is due a push on which device. Members except the sender,
 * allowed by mute and notify level, offline, on each of their devices. Looked up once per batch,
 * not per message: each room's push facts (and its thread replies' participants), then the devices
 * and presence of every candidate, so a busy room costs a few round trips per batch. The funnel
 * counts each message once, here; the rows themselves are made per message (see PushPlan).
 */
export async function planPushes(events: readonly CreatedEvent[], deps: DecisionLookups): Promise<PushPlan> {
  const roomIds = [...new Set(events.map((e) => e.room_id))];
  const facts = new Map<string, PushFacts>();
  const participants = new Map<string, readonly string[]>();
  // A few rooms at a time: a batch of 128 rooms must not send 256 requests at once.
  for (let i = 0; i < roomIds.length; i += ROOMS_AT_ONCE) {
    await Promise.all(
      roomIds.slice(i, i + ROOMS_AT_ONCE).map(async (roomId) => {
        const [roomFacts] = await Promise.all([deps.sources.pushFacts(roomId), threadParticipants(events, roomId, deps, participants)]);
        facts.set(roomId, roomFacts);
      }),
    );
  }
  const now = new Date();
  const candidates = events.map((event) => {
    const room = facts.get(event.room_id) as PushFacts;
    if (!room.room) return [];
    const message = { ...event.message, thread_participants: participants.get(event.message.id) ?? [], deleted: false };
    const allowed = room.members.filter((member) => {
      const verdict = settingsVerdict(member, message, now);
      if (verdict && verdict !== 'sender') deps.funnel.suppressed(verdict);
      return verdict === null;
    });
    deps.funnel.considered(allowed.length);
    return allowed.map((m) => m.user_id);
  });
  const devices = await devicesOfUsers(deps.db, [...new Set(candidates.flat())]);
  const devicesOf = new Map<string, typeof devices>();
  for (const device of devices) {
    const held = devicesOf.get(device.user_id);
    if (held) held.push(device);
    else devicesOf.set(device.user_id, [device]);
  }
  const online = new Set(await deps.sources.presence.onlineAmong([...devicesOf.keys()]));
  const recipients = events.map((_, i) => {
    const users = candidates[i] ?? [];
    const reachable = users.filter((id) => devicesOf.has(id));
    if (users.length > reachable.length) deps.funnel.suppressed('no_device', users.length - reachable.length);
    const offline = reachable.filter((id) => !online.has(id));
    if (reachable.length > offline.length) deps.funnel.suppressed('online', reachable.length - offline.length);
    return offline;
  });
  return planOf(events, recipients, devicesOf);
}

/** The plan of planPushes, holding only what makes rows (not the batch's facts and candidates). */
function planOf(
  events: readonly CreatedEvent[],
  recipients: readonly string[][],
  devicesOf: ReadonlyMap<string, readonly DeviceRow[]>,
): PushPlan {
  return {
    // planPushes keeps only recipients with a device.
    hasRows: (index) => (recipients[index]?.length ?? 0) > 0,
    rowsFor(index, traceparent) {
      const event = events[index];
      if (!event) return [];
      return (recipients[index] ?? []).flatMap((userId) =>
        (devicesOf.get(userId) ?? []).map((device) => ({
          device_token: device.token,
          message_id: event.message.id,
          user_id: userId,
          room_id: event.room_id,
          seq: event.message.seq,
          traceparent,
        })),
      );
    },
  };
}

/** A thread reply also reaches its root's author and repliers as if they were mentioned (DESIGN 10.5): one lookup per room. */
async function threadParticipants(
  events: readonly CreatedEvent[],
  roomId: string,
  deps: DecisionLookups,
  found: Map<string, readonly string[]>,
): Promise<void> {
  const replies = events.filter((e) => e.room_id === roomId && e.message.thread_root_id).map((e) => e.message.id);
  if (replies.length === 0) return;
  for (const state of await deps.sources.messageStates(roomId, replies)) found.set(state.id, state.thread_participants);
}

/**
 * A batch of events: decided together (planPushes), then each message gets its own span, a child
 * of the message's trace, whose context every row of it keeps, so the later push joins that trace.
 * Everything due is recorded in one transaction (urgent rows in a second) before the events are
 * acknowledged, its rows made and written DUE_ROWS_PER_WRITE at a time. Coalescing jobs are
 * scheduled after the commit; one lost here (Redis down) is found by the sweep, so a failure to
 * schedule does not hold events.
 */
export async function decideBatch(messages: readonly JsMsg[], durable: string, deps: DecisionDeps): Promise<void> {
  const created: Array<{ message: JsMsg; event: RoomEvent }> = [];
  for (const message of messages) {
    const parsed = RoomEventSchema.safeParse(message.json());
    if (!parsed.success) {
      deps.logger.error({ subject: message.subject }, 'skipping malformed room event');
      continue;
    }
    if (parsed.data.type === 'message.created') created.push({ message, event: parsed.data });
  }
  if (created.length === 0) return;
  const plan = await inSpan(
    'push decisions',
    {
      root: true,
      links: messageLinks(created.map((c) => c.message)),
      attributes: { 'messaging.batch.message_count': created.length },
    },
    () =>
      planPushes(
        created.map((c) => c.event),
        deps,
      ),
  );
  const traced: TracedMessage[] = [];
  const renotify: Array<{ message_id: string; room_id: string; seq: number; traceparent: string | null }> = [];
  for (const [index, { message, event }] of created.entries()) {
    const traceparent = await inSpan(`process ${message.subject}`, messageProcessSpan(durable, message), (span) => {
      span.setAttributes({ 'chat.room_id': event.room_id, 'chat.message_id': event.message.id });
      return currentTraceparent();
    });
    traced.push({ index, room_id: event.room_id, urgent: event.message.priority === 'urgent', traceparent });
    if (event.message.ack_requested && deps.renotify.maxRounds > 0) {
      renotify.push({ message_id: event.message.id, room_id: event.room_id, seq: event.message.seq, traceparent });
    }
  }
  const budget = deps.dueRowsPerWrite ?? DUE_ROWS_PER_WRITE;
  const record = (urgent: boolean, timing: DueTiming) => {
    const due = traced.filter((m) => m.urgent === urgent && plan.hasRows(m.index));
    if (due.length === 0) return Promise.resolve({ offered: 0, inserted: 0, toSchedule: [] });
    return recordDue(deps.db, [...new Set(due.map((m) => m.room_id))], dueRowChunks(plan, due, budget), timing);
  };
  const coalesced = await record(false, { dueInMs: deps.coalesceMs, leaseMs: deps.leaseMs });
  // Urgent messages are due at once, each pair with a job of its own now (never held for a window).
  const immediate = await record(true, { dueInMs: 0, leaseMs: deps.leaseMs, everyPair: true });
  // Written before the events are acknowledged: a worker killed now finds the schedule in the ledger.
  await recordRenotify(deps.db, renotify, deps.renotify.everyMs);
  const skipped = coalesced.offered + immediate.offered - coalesced.inserted - immediate.inserted;
  if (skipped > 0) deps.funnel.suppressed('already_pushed', skipped);
  try {
    await scheduleCoalesce(deps.queues, coalesced.toSchedule, deps.coalesceMs);
    await scheduleCoalesce(deps.queues, immediate.toSchedule, 0, 'u');
  } catch (error) {
    deps.logger.warn(
      { err: error, pairs: coalesced.toSchedule.length + immediate.toSchedule.length },
      'could not schedule coalescing jobs; the sweep will',
    );
  }
}

/** A message of the batch being recorded: its place in the plan, and the trace context its rows keep. */
export interface TracedMessage {
  index: number;
  room_id: string;
  urgent: boolean;
  traceparent: string | null;
}

/**
 * The due rows of `messages`, each with its message's trace context, in chunks made as they are
 * written: a chunk ends with the message that brings it to `budget` rows or more (a message's
 * rows stay in one chunk), the last holds what is left.
 */
export function* dueRowChunks(plan: PushPlan, messages: readonly TracedMessage[], budget: number): Generator<DueRow[]> {
  let chunk: DueRow[] = [];
  for (const { index, traceparent } of messages) {
    // One by one, not push(...rows): 10,000 members with 20 devices each are more rows than a call takes as arguments.
    for (const row of plan.rowsFor(index, traceparent)) chunk.push(row);
    if (chunk.length >= budget) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
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
