import { type RoomEvent, RoomEventSchema } from '@chat/shared';
import { type RunningConsumer, runDurableConsumer, streams, subjects } from '@chat/shared/nats';
import { trace } from '@opentelemetry/api';
import type { NatsConnection } from 'nats';
import { usersWithDevices } from '../db/devices-repository.js';
import { settingsVerdict } from '../domain/recipients.js';
import type { PushPipeline } from '../jobs/ports.js';

export interface DecisionDeps extends PushPipeline {
  coalesceMs: number;
  ackWaitMs: number;
}

/**
 * For each new message: who should hear about it by push. Members except the sender, allowed by
 * mute and notify level, with a device, and offline. Each goes into the user's batch for the
 * room; the first of a batch schedules its coalescing job. At-least-once delivery of events is
 * harmless: a message already batched or pushed is not added again.
 */
export async function decidePushes(event: Pick<RoomEvent, 'type' | 'room_id' | 'message'>, deps: DecisionDeps) {
  if (event.type !== 'message.created') return;
  const { message } = event;
  trace.getActiveSpan()?.setAttributes({ 'chat.room_id': event.room_id, 'chat.message_id': message.id });
  const facts = await deps.sources.pushFacts(event.room_id);
  if (!facts.room) return;
  const now = new Date();
  const candidates = facts.members.filter((member) => {
    const verdict = settingsVerdict(member, { ...message, deleted: false }, now);
    if (verdict && verdict !== 'sender') deps.funnel.suppressed(verdict);
    return verdict === null;
  });
  deps.funnel.considered(candidates.length);
  const reachable = await usersWithDevices(
    deps.db,
    candidates.map((m) => m.user_id),
  );
  if (candidates.length > reachable.size) deps.funnel.suppressed('no_device', candidates.length - reachable.size);
  const online = new Set(await deps.sources.presence.onlineAmong([...reachable]));
  if (online.size) deps.funnel.suppressed('online', online.size);
  for (const userId of reachable) {
    if (online.has(userId)) continue;
    const added = await deps.batches.add(userId, event.room_id, { messageId: message.id, seq: message.seq });
    if (added === 'duplicate') deps.funnel.suppressed('already_pushed');
    if (added !== 'schedule') continue;
    await deps.queues.coalesce.add(
      'coalesce',
      { user_id: userId, room_id: event.room_id },
      {
        jobId: deps.batches.jobIdFor(userId, event.room_id, message.seq),
        delay: deps.coalesceMs,
        attempts: 5,
        backoff: { type: 'custom' },
        removeOnComplete: { age: 3600, count: 10_000 },
        removeOnFail: { age: 7 * 24 * 3600 },
      },
    );
  }
}

export function runDecisionConsumer(nc: NatsConnection, namespace: string, deps: DecisionDeps): Promise<RunningConsumer> {
  return runDurableConsumer(nc, {
    stream: streams.roomEvents(namespace),
    durable: `${namespace}_notifier`,
    filterSubject: subjects.allRoomEvents(namespace),
    logger: deps.logger,
    ackWaitMs: deps.ackWaitMs,
    async handle(message) {
      const parsed = RoomEventSchema.safeParse(message.json());
      if (!parsed.success) {
        deps.logger.error({ subject: message.subject }, 'skipping malformed room event');
        return;
      }
      await decidePushes(parsed.data, deps);
    },
  });
}
