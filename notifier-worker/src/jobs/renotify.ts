import { runEvery } from '@chat/shared/ops';
import { currentTraceparent, extractTraceContext, inSpan } from '@chat/shared/telemetry';
import { devicesOfUsers } from '../db/devices-repository.js';
import { closeRenotifyRound, leaseDueRenotify } from '../db/ledger-repository.js';
import type { RenotifyRow } from '../db/schema.js';
import { composePush } from '../domain/push-content.js';
import type { Notification } from '../providers/provider.js';
import { hashOf } from './ids.js';
import type { PushPipeline } from './ports.js';
import { scheduleDelivery } from './queues.js';

export interface RenotifyDeps extends PushPipeline {
  /** URGENT_RENOTIFY_MS: between the first push and each re-notification. */
  everyMs: number;
  /** URGENT_RENOTIFY_MAX: re-notifications per message at most. */
  maxRounds: number;
  leaseMs: number;
  deliveryAttempts: number;
}

const PAGE = 100;

/** The ledger key of a re-notification: the device's record holds it beside the message's first push. */
export const reminderKey = (messageId: string, round: number) => `${messageId}/r${round}`;

/**
 * Takes the re-notification rounds that are due (DESIGN 10.2): each pushes the message again to
 * every member asked to acknowledge it who has not, online or not, muted or not. Everything is in
 * the ledger: a worker killed mid-round leaves the round leased, and it is taken again when the
 * lease runs out, with the same batch ids (so the same `webhook-id`s).
 */
export async function renotifyOnce(deps: RenotifyDeps): Promise<number> {
  let done = 0;
  for (;;) {
    const rows = await leaseDueRenotify(deps.db, deps.leaseMs, PAGE);
    for (const row of rows) {
      try {
        await renotifyRound(row, deps);
        done++;
      } catch (error) {
        // The round stays leased; it is taken again when the lease runs out.
        deps.logger.warn({ err: error, message_id: row.message_id }, 're-notification round failed; trying again later');
      }
    }
    if (rows.length < PAGE) return done;
  }
}

async function renotifyRound(row: RenotifyRow, deps: RenotifyDeps): Promise<string> {
  const parent = extractTraceContext(row.traceparent ? { traceparent: row.traceparent } : undefined);
  const round = row.rounds_done + 1;
  return inSpan(
    'push renotify',
    { parent, attributes: { 'chat.room_id': row.room_id, 'chat.message_id': row.message_id, 'chat.push.round': round } },
    async () => {
      const finish = async (outcome: string) => {
        await closeRenotifyRound(deps.db, row, { batches: [], nextInMs: 0, finished: true, counted: false });
        deps.logger.info(
          { message_id: row.message_id, room_id: row.room_id, rounds: row.rounds_done, outcome },
          're-notification finished',
        );
        return outcome;
      };
      if (row.rounds_done >= deps.maxRounds) return finish('max_rounds');
      const [message] = await deps.sources.messageStates(row.room_id, [row.message_id]);
      if (!message || message.deleted) return finish('deleted');
      const pending = new Set(message.ack_pending ?? []);
      if (pending.size === 0) return finish('acknowledged');
      const facts = await deps.sources.pushFacts(row.room_id, [...pending]);
      if (!facts.room) return finish('room_gone');
      // Those asked who are still members: someone who left is not reminded.
      const members = facts.members.filter((m) => pending.has(m.user_id)).map((m) => m.user_id);
      const devices = await devicesOfUsers(deps.db, members);
      const badges = new Map<string, number>();
      for (const userId of new Set(devices.map((d) => d.user_id))) badges.set(userId, await deps.sources.unreadTotal(userId));
      const traceparent = currentTraceparent();
      const room = facts.room;
      const batches = devices.map((device) => {
        const push = composePush(device.user_id, room, [message], badges.get(device.user_id) ?? 0);
        const notification: Notification = { kind: 'alert', push: { ...push, reminder: round } };
        return {
          // Named by message, device and round: a round taken again records and delivers nothing new.
          id: `r-${hashOf(row.message_id, device.token)}-${round}`,
          device_token: device.token,
          user_id: device.user_id,
          room_id: row.room_id,
          platform: device.platform,
          app_id: device.app_id,
          message_ids: [reminderKey(row.message_id, round)],
          notification,
          traceparent,
          leaseMs: deps.leaseMs,
        };
      });
      const finished = round >= deps.maxRounds;
      const made = await closeRenotifyRound(deps.db, row, { batches, nextInMs: deps.everyMs, finished, counted: true });
      if (made.length > 0) deps.funnel.queued(made.length);
      try {
        await scheduleDelivery(deps.queues.deliver, made, deps.deliveryAttempts);
      } catch (error) {
        deps.logger.warn({ err: error, batches: made.length }, 'could not queue re-notifications; the sweep will');
      }
      deps.logger.info(
        { message_id: row.message_id, room_id: row.room_id, round, pending: pending.size, devices: made.length },
        'push re-notification',
      );
      return `round ${round}`;
    },
  );
}

/** Looks for due rounds every `intervalMs` until stopped. */
export function startRenotifier(deps: RenotifyDeps, intervalMs: number): { stop(): Promise<void> } {
  return runEvery(
    intervalMs,
    async () => {
      await renotifyOnce(deps);
    },
    { logger: deps.logger, what: 're-notification poll' },
  );
}
