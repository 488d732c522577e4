import type { Message, Report, ReportStatus } from '@chat/shared';
import type { Actor } from '@chat/shared/auth';
import { describe, expect, it } from 'vitest';
import { MessageReports, type ReportEvents, type ReportRow, type ReportStore } from './reports.js';
import type { RoomAccess } from './room-access.js';
import type { MessageRow } from './rows.js';

const ROOM = '00000000-0000-4000-8000-000000000001';
const MESSAGE = '00000000-0000-4000-8000-0000000000aa';
const actor = (id: string, roles: string[] = []): Actor => ({ user_id: id, name: null, roles });

/** Reports in memory, with the clock under the test's control. */
function memoryStore() {
  const rows: Array<ReportRow & { recorded: boolean }> = [];
  let clock = Date.parse('2026-01-01T00:00:00Z');
  const store: ReportStore = {
    findByReporter: async (messageId, reporterId) => rows.find((r) => r.message_id === messageId && r.reporter_id === reporterId),
    insert: async (report) => {
      const earlier = rows.find((r) => r.message_id === report.message_id && r.reporter_id === report.reporter_id);
      if (earlier) return { row: earlier, created: false };
      clock += 1000;
      const row = { ...report, status: 'open' as ReportStatus, created_at: new Date(clock), recorded: false };
      rows.push(row);
      return { row, created: true };
    },
    list: async (status, limit, after) =>
      rows
        .filter((r) => r.status === status)
        .map((r) => ({ ...r, created_micros: r.created_at.getTime() * 1000 }))
        .filter((r) => !after || r.created_micros > after.micros || (r.created_micros === after.micros && r.id > after.id))
        .slice(0, limit),
    setStatus: async (id, status) => {
      const row = rows.find((r) => r.id === id);
      if (row) row.status = status;
      return row;
    },
    unrecorded: async (olderThanMs, limit) =>
      rows.filter((r) => !r.recorded && r.created_at.getTime() < clock - olderThanMs).slice(0, limit),
    markRecorded: async (id) => {
      const row = rows.find((r) => r.id === id);
      if (row) row.recorded = true;
    },
  };
  return { store, rows, advance: (ms: number) => (clock += ms) };
}

function messageRow(overrides: Partial<MessageRow> = {}): MessageRow {
  return {
    id: MESSAGE,
    room_id: ROOM,
    seq: 5,
    sender_id: 'sender',
    deleted_at: null,
    ...overrides,
  } as MessageRow;
}

function setup(options: { row?: MessageRow | null; visibleFromSeq?: number; member?: boolean } = {}) {
  const memory = memoryStore();
  const recorded: Report[] = [];
  const pendingAcks: Array<() => void> = [];
  const events: ReportEvents = {
    record: (report, onRecorded) => {
      recorded.push(report);
      pendingAcks.push(onRecorded);
    },
  };
  const member = options.member ?? true;
  const rooms = {
    authorize: async () => ({ allowed: member, member, closed: false, visible_from_seq: options.visibleFromSeq ?? 0 }),
  } as unknown as RoomAccess;
  const row = options.row === undefined ? messageRow() : options.row;
  const snapshot = { id: MESSAGE, body: 'rude words' } as Message;
  let ids = 0;
  const reports = new MessageReports(
    memory.store,
    { find: async () => (row ? { row, snapshot } : undefined) },
    rooms,
    events,
    () => `00000000-0000-4000-8000-${String(++ids).padStart(12, '0')}`,
  );
  /** JetStream acknowledges everything recorded so far. */
  const acknowledge = async () => {
    for (const ack of pendingAcks.splice(0)) ack();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { reports, memory, recorded, acknowledge };
}

describe('MessageReports', () => {
  it('stores one report per reporter and message and records its host event once', async () => {
    const { reports, recorded } = setup();
    const first = await reports.report(actor('guest'), ROOM, MESSAGE, { reason: 'harassment', note: '  keeps writing at night  ' });
    expect(first).toMatchObject({ created: true, report: { status: 'open', reason: 'harassment', note: 'keeps writing at night' } });
    const again = await reports.report(actor('guest'), ROOM, MESSAGE, { reason: 'spam' });
    expect(again).toEqual({ report: first.report, created: false });
    expect(recorded).toEqual([first.report]);
  });

  it("refuses one's own message (422), a deleted one (409), and what the reporter cannot see (404)", async () => {
    await expect(setup().reports.report(actor('sender'), ROOM, MESSAGE, { reason: 'spam' })).rejects.toMatchObject({
      code: 'invalid',
      httpStatus: 422,
    });
    const deleted = setup({ row: messageRow({ deleted_at: new Date() }) });
    await expect(deleted.reports.report(actor('guest'), ROOM, MESSAGE, { reason: 'spam' })).rejects.toMatchObject({ code: 'conflict' });
    const lateJoiner = setup({ visibleFromSeq: 5 });
    await expect(lateJoiner.reports.report(actor('guest'), ROOM, MESSAGE, { reason: 'spam' })).rejects.toMatchObject({
      code: 'not_found',
      message: 'message not found',
    });
    const outsider = setup({ member: false });
    await expect(outsider.reports.report(actor('guest'), ROOM, MESSAGE, { reason: 'spam' })).rejects.toMatchObject({
      code: 'not_found',
      message: 'room not found',
    });
    for (const refused of [deleted, lateJoiner, outsider]) expect(refused.memory.rows).toEqual([]);
  });

  it('lets only moderator and service tokens list and handle reports', async () => {
    const { reports } = setup();
    const { report } = await reports.report(actor('guest'), ROOM, MESSAGE, { reason: 'other' });
    await expect(reports.list(actor('guest', ['staff']), 'open', 50)).rejects.toMatchObject({ code: 'forbidden' });
    await expect(reports.setStatus(actor('guest'), report.id, 'resolved')).rejects.toMatchObject({ code: 'forbidden' });
    const open = await reports.list(actor('mod', ['moderator']), 'open', 50);
    expect(open.items).toEqual([{ ...report, message: { id: MESSAGE, body: 'rude words' } }]);
    expect(await reports.setStatus(actor('host', ['service']), report.id, 'dismissed')).toMatchObject({ status: 'dismissed' });
    expect((await reports.list(actor('mod', ['moderator']), 'open', 50)).items).toEqual([]);
    await expect(reports.setStatus(actor('mod', ['moderator']), '00000000-0000-4000-8000-00000000ffff', 'resolved')).rejects.toMatchObject({
      code: 'not_found',
    });
    await expect(reports.list(actor('mod', ['moderator']), 'open', 10, 'not-a-cursor')).rejects.toMatchObject({ code: 'invalid' });
  });

  it('pages the queue oldest first without skipping or repeating', async () => {
    const { reports } = setup();
    const made: string[] = [];
    for (const reporter of ['a', 'b', 'c', 'd', 'e'])
      made.push((await reports.report(actor(reporter), ROOM, MESSAGE, { reason: 'spam' })).report.id);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await reports.list(actor('mod', ['moderator']), 'open', 2, cursor);
      seen.push(...page.items.map((i) => i.id));
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(made);
  });

  it('records again what a crash left unrecorded, but not what is still on its way', async () => {
    const { reports, recorded, memory, acknowledge } = setup();
    await reports.report(actor('guest'), ROOM, MESSAGE, { reason: 'spam' });
    memory.advance(60_000);
    // Still queued for JetStream in this process: not queued a second time.
    expect(await reports.recordPending(10_000)).toBe(0);
    await acknowledge();
    expect(memory.rows.map((r) => r.recorded)).toEqual([true]);
    expect(await reports.recordPending(10_000)).toBe(0);

    // A row committed by a process that died before JetStream acknowledged its event.
    memory.rows.push({ ...(memory.rows[0] as ReportRow & { recorded: boolean }), id: 'crashed', reporter_id: 'other', recorded: false });
    memory.advance(60_000);
    expect(await reports.recordPending(10_000)).toBe(1);
    expect(recorded.map((r) => r.id).at(-1)).toBe('crashed');
    await acknowledge();
    expect(memory.rows.every((r) => r.recorded)).toBe(true);
  });
});
