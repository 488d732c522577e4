import type { ReportStatus, TimeIdCursor } from '@chat/shared';
import { epochMicros, pastTimeIdCursor } from '@chat/shared/db';
import { type Kysely, sql } from 'kysely';
import { summariseReactions, toMessage } from '../domain/message-rules.js';
import type { NewReport, ReportedMessages, ReportStore } from '../domain/reports.js';
import { findMessage, loadReactionCounts } from './messages-repository.js';
import type { MessagesDatabase } from './schema.js';

const reportColumns = ['id', 'room_id', 'message_id', 'reporter_id', 'reason', 'note', 'status', 'message_snapshot', 'created_at'] as const;

export function reportStore(db: Kysely<MessagesDatabase>): ReportStore {
  return {
    findByReporter: (messageId, reporterId) =>
      db
        .selectFrom('messages.reports')
        .select(reportColumns)
        .where('message_id', '=', messageId)
        .where('reporter_id', '=', reporterId)
        .executeTakeFirst(),

    async insert(report: NewReport) {
      const inserted = await db
        .insertInto('messages.reports')
        .values({ ...report, message_snapshot: JSON.stringify(report.message_snapshot) })
        .onConflict((oc) => oc.columns(['message_id', 'reporter_id']).doNothing())
        .returning(reportColumns)
        .executeTakeFirst();
      if (inserted) return { row: inserted, created: true };
      // A concurrent report by the same reporter won the unique key: answer theirs.
      const existing = await this.findByReporter(report.message_id, report.reporter_id);
      if (!existing) throw new Error(`report of ${report.message_id} by ${report.reporter_id} vanished`);
      return { row: existing, created: false };
    },

    list: (status: ReportStatus, limit: number, after: TimeIdCursor | null) =>
      db
        .selectFrom('messages.reports')
        .select(reportColumns)
        .select(epochMicros('created_at').as('created_micros'))
        .where('status', '=', status)
        .$if(after !== null, (q) => q.where(pastTimeIdCursor('created_at', 'id', after as TimeIdCursor, 'oldest_first')))
        .orderBy('created_at')
        .orderBy('id')
        .limit(limit)
        .execute()
        .then((rows) => rows.map((row) => ({ ...row, created_micros: Number(row.created_micros) }))),

    setStatus: (id, status, by) =>
      db
        .updateTable('messages.reports')
        .set({ status, updated_by: by, updated_at: sql<Date>`now()` })
        .where('id', '=', id)
        .returning(reportColumns)
        .executeTakeFirst(),

    unrecorded: (olderThanMs, limit) =>
      db
        .selectFrom('messages.reports')
        .select(reportColumns)
        .where('event_recorded_at', 'is', null)
        .where('created_at', '<', sql<Date>`now() - make_interval(secs => ${olderThanMs / 1000})`)
        .orderBy('created_at')
        .limit(limit)
        .execute(),

    async markRecorded(id) {
      await db.updateTable('messages.reports').set({ event_recorded_at: sql<Date>`now()` }).where('id', '=', id).execute();
    },
  };
}

/** The reported message and its snapshot: what everyone sees of it now (no viewer's `me`). */
export function reportedMessages(db: Kysely<MessagesDatabase>): ReportedMessages {
  return {
    async find(roomId, messageId) {
      const row = await findMessage(db, roomId, messageId);
      if (!row) return undefined;
      const counts = await loadReactionCounts(db, [row.id], null);
      return { row, snapshot: toMessage(row, summariseReactions(counts, row.id, false)) };
    },
  };
}
