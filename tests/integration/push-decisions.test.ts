import { randomUUID } from 'node:crypto';
import type { Message } from '@chat/shared';
import { migrateSchema, openDatabase } from '@chat/shared/db';
import { createLogger } from '@chat/shared/logging';
import type { Job } from 'bullmq';
import type { JsMsg } from 'nats';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { toMessage } from '../../messages-service/src/domain/message-rules.js';
import { registerDevice } from '../../notifier-worker/src/db/devices-repository.js';
import {
  claimDue,
  type DueRow,
  type DueTiming,
  recordDue,
  settleTaken,
  takeOpenDue,
} from '../../notifier-worker/src/db/ledger-repository.js';
import { notifyMigrations } from '../../notifier-worker/src/db/migrations/index.js';
import type { NotifyDatabase } from '../../notifier-worker/src/db/schema.js';
import type { SuppressionReason } from '../../notifier-worker/src/domain/recipients.js';
import { type DecisionDeps, type DecisionLookups, decideBatch, planPushes } from '../../notifier-worker/src/handlers/message-events.js';
import { processCoalesceJob } from '../../notifier-worker/src/jobs/coalesce-worker.js';
import type { PushFunnel } from '../../notifier-worker/src/jobs/funnel.js';
import type { CoalesceJob, PushQueues } from '../../notifier-worker/src/jobs/queues.js';
import { eventually } from '../support/eventually.js';
import { plainDraft } from '../support/message-drafts.js';
import { createScratchDatabase, type ScratchDatabase } from '../support/scratch-database.js';

const infra = inject('infra');
const logger = createLogger({ service: 'test', version: '0', level: 'silent', pretty: false });
let scratch: ScratchDatabase;
let database: ReturnType<typeof openDatabase<NotifyDatabase>>;

beforeAll(async () => {
  scratch = await createScratchDatabase(infra.adminDatabaseUrl, 'chat_push_decisions');
  database = openDatabase<NotifyDatabase>(scratch.url, { poolMax: 4, applicationName: 'test', logger });
  await migrateSchema(database.db, 'notify', notifyMigrations, logger);
});

afterAll(async () => {
  await database.close();
  await scratch.drop();
});

/** A push funnel that counts nothing. */
const silentFunnel: PushFunnel = {
  considered: () => undefined,
  suppressed: () => undefined,
  queued: () => undefined,
  sent: () => undefined,
  accepted: () => undefined,
  failed: () => undefined,
};

const ROOM_A = randomUUID();
const ROOM_B = randomUUID();
const member = (user_id: string, settings: { notify?: 'all' | 'mentions' | 'none'; muted_until?: string | null } = {}) => ({
  user_id,
  name: null,
  muted_until: settings.muted_until ?? null,
  notify: settings.notify ?? 'all',
  last_read_seq: 0,
});
const message = (roomId: string, seq: number, extra: Partial<Pick<Message, 'mentions' | 'thread_root_id'>> = {}): Message =>
  toMessage({
    ...plainDraft(roomId, 'alice', `c-${roomId}-${seq}`),
    mentions: [...(extra.mentions ?? [])],
    thread_root_id: extra.thread_root_id ?? null,
    seq,
    ack_count: 0,
    created_at: new Date(),
    edited_at: null,
    deleted_at: null,
  });

/** Records rows written in one go, in the rooms they name. */
const recordRows = (rows: DueRow[], timing: DueTiming) => recordDue(database.db, [...new Set(rows.map((r) => r.room_id))], [rows], timing);

/** Every message's due rows of a batch, decided together. */
async function dueForMessages(events: Parameters<typeof planPushes>[0], deps: DecisionLookups) {
  const plan = await planPushes(events, deps);
  return events.map((_, i) => plan.rowsFor(i, null));
}

describe('push decisions of a batch', () => {
  it('look each room up once and every candidate device and presence once, and decide each message as alone', async () => {
    // Room A: bob (two devices, offline), carol (online), dave (no device), erin (muted), ivy
    // (mentions only, a participant of A1's thread only). Room B: bob (mentions only), frank
    // (offline). Alice sends everything; A2 and A3 are thread replies, A2 in A1's thread.
    for (const [token, user] of [
      ['bob-phone', 'bob'],
      ['bob-tablet', 'bob'],
      ['carol-phone', 'carol'],
      ['erin-phone', 'erin'],
      ['frank-phone', 'frank'],
      ['ivy-phone', 'ivy'],
    ] as const) {
      await registerDevice(database.db, { token, user_id: user, platform: 'webhook', app_id: null }, 5);
    }
    const calls = { pushFacts: [] as string[], messageStates: [] as Array<[string, string[]]>, onlineAmong: [] as string[][] };
    const suppressed: Partial<Record<SuppressionReason, number>> = {};
    let considered = 0;
    const a1 = message(ROOM_A, 1);
    const a2 = message(ROOM_A, 2, { thread_root_id: a1.id });
    const a3 = message(ROOM_A, 3, { thread_root_id: randomUUID() });
    const b1 = message(ROOM_B, 1, { mentions: ['bob'] });
    const b2 = message(ROOM_B, 2);
    const deps: DecisionLookups = {
      db: database.db,
      sources: {
        async pushFacts(roomId) {
          calls.pushFacts.push(roomId);
          const members =
            roomId === ROOM_A
              ? [
                  member('alice'),
                  member('bob'),
                  member('carol'),
                  member('dave'),
                  member('erin', { muted_until: '2999-01-01T00:00:00Z' }),
                  member('ivy', { notify: 'mentions' }),
                ]
              : [member('alice'), member('bob', { notify: 'mentions' }), member('frank')];
          return { room: { id: roomId, kind: 'group', title: 'Crew' }, members };
        },
        async messageStates(roomId, ids) {
          calls.messageStates.push([roomId, ids]);
          return ids.map((id) => ({ id, thread_participants: id === a2.id ? ['ivy'] : ['bob'] })) as Awaited<
            ReturnType<DecisionLookups['sources']['messageStates']>
          >;
        },
        async unreadTotal() {
          return 0;
        },
        presence: {
          async isOnline(userId) {
            return userId === 'carol';
          },
          async onlineAmong(userIds) {
            calls.onlineAmong.push([...userIds].sort());
            return userIds.filter((id) => id === 'carol');
          },
        },
      },
      funnel: {
        considered: (count) => {
          considered += count;
        },
        suppressed: (reason, count = 1) => {
          suppressed[reason] = (suppressed[reason] ?? 0) + count;
        },
        queued: () => undefined,
        sent: () => undefined,
        accepted: () => undefined,
        failed: () => undefined,
      },
    };

    const events = [a1, a2, a3, b1, b2].map((m) => ({ room_id: m.room_id, message: m }));
    const rows = await dueForMessages(events, deps);

    const pairs = rows.map((of) => of.map((r) => `${r.user_id}:${r.device_token}`).sort());
    expect(pairs).toEqual([
      ['bob:bob-phone', 'bob:bob-tablet'],
      ['bob:bob-phone', 'bob:bob-tablet', 'ivy:ivy-phone'],
      ['bob:bob-phone', 'bob:bob-tablet'],
      ['bob:bob-phone', 'bob:bob-tablet', 'frank:frank-phone'],
      ['frank:frank-phone'],
    ]);
    expect(rows.flat().every((r) => r.message_id && r.seq > 0)).toBe(true);
    expect(rows[3]?.every((r) => r.room_id === ROOM_B && r.message_id === b1.id && r.seq === 1)).toBe(true);
    expect(calls.pushFacts.sort()).toEqual([ROOM_A, ROOM_B].sort());
    expect(calls.messageStates).toEqual([[ROOM_A, [a2.id, a3.id]]]);
    expect(calls.onlineAmong).toEqual([['bob', 'carol', 'frank', 'ivy']]);
    // Per message: A1 and A3 consider bob, carol, dave; A2 those and ivy; B1 bob and frank; B2 frank.
    expect(considered).toBe(3 + 4 + 3 + 2 + 1);
    expect(suppressed).toEqual({ muted: 3, not_mentioned: 3, no_device: 3, online: 3 });
    // And each message alone is decided the same way.
    for (const [i, event] of events.entries()) {
      const alone = (await dueForMessages([event], deps))[0] ?? [];
      expect(alone.map((r) => `${r.user_id}:${r.device_token}`).sort()).toEqual(pairs[i]);
    }
  });

  it('decides no push, and asks no presence, for a message of a room that is gone', async () => {
    let asked = 0;
    const deps: DecisionLookups = {
      db: database.db,
      sources: {
        pushFacts: async () => ({ room: null, members: [] }),
        messageStates: async () => [],
        unreadTotal: async () => 0,
        presence: {
          isOnline: async () => false,
          onlineAmong: async (ids) => {
            if (ids.length > 0) asked++;
            return [];
          },
        },
      },
      funnel: silentFunnel,
    };
    const gone = message(randomUUID(), 1);
    expect(await dueForMessages([{ room_id: gone.room_id, message: gone }], deps)).toEqual([[]]);
    expect(asked).toBe(0);
  });
});

describe('the push ledger, a coalescing job and a recording at once', () => {
  const due = (roomId: string, seq: number): DueRow => ({
    device_token: `phone-${roomId}`,
    message_id: randomUUID(),
    user_id: 'gina',
    room_id: roomId,
    seq,
    traceparent: null,
  });
  const timing = { dueInMs: 0, leaseMs: 60_000 };
  /** What a coalescing job does with the rows it took: claims them, under its room's lock. */
  const settle = (roomId: string, taken: readonly DueRow[], meanwhile: () => Promise<void> = async () => undefined) =>
    settleTaken(database.db, 'gina', roomId, async (trx) => {
      await claimDue(
        trx,
        `phone-${roomId}`,
        taken.map((r) => r.message_id),
        'p-1',
      );
      await meanwhile();
    });

  it('leaves rows recorded after the job read the ledger to the job, which finds them when it settles', async () => {
    const roomId = randomUUID();
    expect((await recordRows([due(roomId, 1)], timing)).toSchedule).toHaveLength(1);
    const taken = await takeOpenDue(database.db, 'gina', roomId, 60_000);
    // Recorded while the job works: its row 1 is open, so no job of its own.
    expect((await recordRows([due(roomId, 2)], timing)).toSchedule).toEqual([]);
    const { left } = await settle(roomId, taken);
    expect(left).toBe(2);
  });

  it('makes a recording that started while the job settles wait, then schedule a job of its own', async () => {
    const roomId = randomUUID();
    await recordRows([due(roomId, 1)], timing);
    const taken = await takeOpenDue(database.db, 'gina', roomId, 60_000);
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let locked!: () => void;
    const holding = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const job = settle(roomId, taken, async () => {
      locked();
      await released;
    }).then(({ left }) => left);
    await holding;
    let recorded = false;
    const recording = recordRows([due(roomId, 2)], timing).finally(() => {
      recorded = true;
    });
    // The recording waits on the room's lock while the job has not committed.
    await eventually(async () => {
      const waiting = await database.pool.query(
        "select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event = 'advisory'",
      );
      expect(waiting.rows[0]?.n).toBe(1);
    });
    expect(recorded).toBe(false);
    release();
    expect(await job).toBeUndefined();
    // It then sees the job's rows taken, and asks for a job for its own.
    expect((await recording).toSchedule).toEqual([{ user_id: 'gina', room_id: roomId, first_seq: 2 }]);
  });
});

describe('a coalescing job that finds rows recorded while it ran', () => {
  it('pushes what it took and gives the rest a window of its own, so a busy room gets one push per window', async () => {
    const roomId = randomUUID();
    await registerDevice(database.db, { token: `hana-${roomId}`, user_id: 'hana', platform: 'webhook', app_id: null }, 5);
    const row = (seq: number): DueRow => ({
      device_token: `hana-${roomId}`,
      message_id: randomUUID(),
      user_id: 'hana',
      room_id: roomId,
      seq,
      traceparent: null,
    });
    const first = [row(1), row(2)];
    await recordRows(first, { dueInMs: 0, leaseMs: 60_000 });
    const scheduled: Array<{ name: string; opts?: { jobId?: string; delay?: number } }> = [];
    const queues = {
      coalesce: { addBulk: async (jobs: typeof scheduled) => scheduled.push(...jobs) },
      deliver: { addBulk: async (jobs: typeof scheduled) => scheduled.push(...jobs) },
    } as unknown as PushQueues;
    let recordedMeanwhile: unknown;
    const outcome = await processCoalesceJob(
      { id: 'c-parent', name: 'coalesce', data: { user_id: 'hana', room_id: roomId } } as Job<CoalesceJob>,
      {
        db: database.db,
        queues,
        logger,
        coalesceMs: 700,
        deliveryAttempts: 3,
        leaseMs: 60_000,
        funnel: silentFunnel,
        sources: {
          // A message arrives while the job asks about the room: its recording sees the job's rows open.
          pushFacts: async () => {
            recordedMeanwhile = (await recordRows([row(3)], { dueInMs: 0, leaseMs: 60_000 })).toSchedule;
            return { room: { id: roomId, kind: 'group', title: 'Crew' }, members: [member('hana')] };
          },
          messageStates: async (_room, ids) =>
            ids.map((id, i) => ({
              id,
              seq: i + 1,
              sender_id: 'alice',
              sender_name: 'Alice',
              kind: 'text',
              deleted: false,
              mentions: [],
              thread_root_id: null,
              thread_participants: [],
              preview: 'hi',
            })),
          unreadTotal: async () => 3,
          presence: { isOnline: async () => false, onlineAmong: async () => [] },
        },
      },
    );
    expect(outcome).toBe('queued 1');
    expect(recordedMeanwhile).toEqual([]);
    const pushes = scheduled.filter((job) => job.name === 'alert');
    const followUps = scheduled.filter((job) => job.name === 'coalesce');
    expect(pushes).toHaveLength(1);
    expect(followUps).toEqual([
      expect.objectContaining({ opts: expect.objectContaining({ delay: 700, jobId: expect.stringMatching(/-3-next-[0-9a-f]{12}$/) }) }),
    ]);
    const taken = await database.db
      .selectFrom('notify.push_due')
      .select(['seq', 'batch_id'])
      .where('room_id', '=', roomId)
      .orderBy('seq')
      .execute();
    expect(taken.map((r) => [Number(r.seq), r.batch_id === null ? 'open' : 'taken'])).toEqual([
      [1, 'taken'],
      [2, 'taken'],
      [3, 'open'],
    ]);
  });
});

describe('a batch with many due rows', () => {
  /** Decision deps whose rooms have the given members, counting the coalescing jobs of each write. */
  function batchDeps(membersOf: (roomId: string) => string[], dueRowsPerWrite?: number) {
    const jobsPerSchedule: number[] = [];
    const scheduledUsers: string[] = [];
    const jobIds: string[] = [];
    const deps: DecisionDeps = {
      db: database.db,
      logger,
      funnel: silentFunnel,
      sources: {
        pushFacts: async (id) => ({ room: { id, kind: 'group', title: 'Everyone' }, members: membersOf(id).map((u) => member(u)) }),
        messageStates: async () => [],
        unreadTotal: async () => 0,
        presence: { isOnline: async () => false, onlineAmong: async () => [] },
      },
      queues: {
        coalesce: {
          addBulk: async (jobs: Array<{ data: { user_id: string }; opts: { jobId: string } }>) => {
            jobsPerSchedule.push(jobs.length);
            for (const job of jobs) {
              scheduledUsers.push(job.data.user_id);
              jobIds.push(job.opts.jobId);
            }
            return [];
          },
        },
      } as unknown as PushQueues,
      coalesceMs: 60_000,
      ackWaitMs: 30_000,
      leaseMs: 60_000,
      streamReplicas: 1,
      renotify: { everyMs: 60_000, maxRounds: 0 },
      ...(dueRowsPerWrite === undefined ? {} : { dueRowsPerWrite }),
    };
    return { deps, jobsPerSchedule, scheduledUsers, jobIds };
  }
  /** The stream message of a new message, as the decision consumer receives it. */
  const createdMsg = (roomId: string, seq: number) => {
    const event = { type: 'message.created', room_id: roomId, seq, message: message(roomId, seq) };
    return { subject: `test.room.${roomId}.event`, headers: undefined, json: () => event } as unknown as JsMsg;
  };
  const devicesEach = (users: string[], count: number) =>
    database.pool.query(
      `insert into notify.devices (token, user_id, platform, app_id)
       select u || '-device-' || d, u, 'webhook', null from unnest($1::text[]) as u, generate_series(1, $2::int) as d`,
      [users, count],
    );
  const dueIn = async (roomIds: string[]) =>
    (
      await database.pool.query(
        'select count(*)::int as rows, count(distinct (user_id, room_id))::int as pairs from notify.push_due where room_id = any($1)',
        [roomIds],
      )
    ).rows[0];

  it('makes and writes a batch in chunks but in one transaction: the rows and jobs of one write', async () => {
    // Four rooms of five members with two devices each: ten rows a message, a chunk each.
    const rooms: string[] = Array.from({ length: 4 }, () => randomUUID());
    const membersOf = (roomId: string) => Array.from({ length: 5 }, (_, u) => `chunks-${rooms.indexOf(roomId)}-${u}`);
    await devicesEach(rooms.flatMap(membersOf), 2);
    // chunks-3-0 has a row open from an earlier batch: a pair first met in a later chunk (the fourth) still counts as open.
    const earlier = { device_token: 'chunks-3-0-device-1', message_id: randomUUID(), user_id: 'chunks-3-0', room_id: rooms[3] as string };
    await recordRows([{ ...earlier, seq: 0, traceparent: null }], { dueInMs: 60_000, leaseMs: 60_000 });
    const { deps, jobsPerSchedule, scheduledUsers, jobIds } = batchDeps(membersOf, 10);
    // A second message in the first room, in a chunk of its own: its pairs opened in the first chunk.
    const batch = [...rooms.map((room) => createdMsg(room, 1)), createdMsg(rooms[0] as string, 2)];

    await decideBatch(batch, 'test_notifier', deps);

    expect(await dueIn(rooms)).toEqual({ rows: 51, pairs: 20 });
    // One transaction: every row of the batch has the same due time (the transaction's start).
    const dueTimes = await database.pool.query(
      'select count(distinct due_at)::int as n from notify.push_due where room_id = any($1) and message_id <> $2',
      [rooms, earlier.message_id],
    );
    expect(dueTimes.rows[0]).toEqual({ n: 1 });
    // One schedule after the commit, as for one write: every pair once but the one open before.
    expect(jobsPerSchedule).toEqual([19]);
    expect(scheduledUsers.sort()).toEqual(
      rooms
        .flatMap(membersOf)
        .filter((u) => u !== 'chunks-3-0')
        .sort(),
    );
    // Each job is named by its pair's first seq: 1 everywhere, though the first room's pairs also got seq 2.
    expect(jobIds.every((id) => id.endsWith('-1'))).toBe(true);
  });

  it('records a due row for each of 200,000 devices of one message (10,000 members, 20 devices each), more than one call takes as arguments', async () => {
    const roomId = randomUUID();
    const users = Array.from({ length: 10_000 }, (_, i) => `crowd-${String(i).padStart(5, '0')}`);
    // DEVICES_MAX_PER_USER's default.
    await devicesEach(users, 20);
    const { deps, jobsPerSchedule } = batchDeps(() => users);

    await decideBatch([createdMsg(roomId, 1)], 'test_notifier', deps);

    expect(await dueIn([roomId])).toEqual({ rows: 200_000, pairs: 10_000 });
    expect(jobsPerSchedule).toEqual([10_000]);
  }, 120_000);
});
