import {
  ChatError,
  type CreateReportBody,
  decodeTimeIdCursor,
  encodeTimeIdCursor,
  type Message,
  type ModerationReport,
  type Page,
  type Report,
  type ReportStatus,
  type TimeIdCursor,
} from '@chat/shared';
import type { Actor } from '@chat/shared/auth';
import type { RoomAccess } from './room-access.js';
import type { MessageRow, ReportRow } from './rows.js';

export type { ReportRow };

export type NewReport = Omit<ReportRow, 'status' | 'created_at'>;

/** Where reports are kept (the messages schema). */
export interface ReportStore {
  findByReporter(messageId: string, reporterId: string): Promise<ReportRow | undefined>;
  /** Stores the report unless the reporter already reported the message; answers the stored one. */
  insert(report: NewReport): Promise<{ row: ReportRow; created: boolean }>;
  /** Reports with `status`, oldest first, after `after`; each with its time in microseconds for the cursor. */
  list(status: ReportStatus, limit: number, after: TimeIdCursor | null): Promise<Array<ReportRow & { created_micros: number }>>;
  setStatus(id: string, status: ReportStatus, by: string): Promise<ReportRow | undefined>;
  /** Reports whose host event is not yet known to be recorded, created more than `olderThanMs` ago. */
  unrecorded(olderThanMs: number, limit: number): Promise<ReportRow[]>;
  markRecorded(id: string): Promise<void>;
}

/** The message a report is about, and its reaction counts for the snapshot. */
export interface ReportedMessages {
  find(roomId: string, messageId: string): Promise<{ row: MessageRow; snapshot: Message } | undefined>;
}

/** Records `message.reported` for the host application; `onRecorded` runs once JetStream has it. */
export interface ReportEvents {
  record(report: Report, onRecorded: () => void): void;
}

const MODERATION_ROLES = ['moderator', 'service'];

export function toReport(row: ReportRow): Report {
  return {
    id: row.id,
    room_id: row.room_id,
    message_id: row.message_id,
    reporter_id: row.reporter_id,
    reason: row.reason,
    note: row.note,
    status: row.status,
    created_at: row.created_at.toISOString(),
  };
}

/**
 * Reports and the moderators' queue (DESIGN 10.3). A report is one row per reporter and message,
 * with the message as it was; its `message.reported` host event is recorded after the commit and
 * re-recorded by `recordPending` if the process died in between (the row is its own outbox).
 */
export class MessageReports {
  private readonly recording = new Set<string>();

  constructor(
    private readonly store: ReportStore,
    private readonly messages: ReportedMessages,
    private readonly rooms: RoomAccess,
    private readonly events: ReportEvents,
    private readonly newId: () => string,
  ) {}

  async report(actor: Actor, roomId: string, messageId: string, body: CreateReportBody): Promise<{ report: Report; created: boolean }> {
    const access = await this.rooms.authorize(roomId, actor, 'room.read');
    if (!access.member) throw ChatError.notFound('room');
    if (!access.allowed) throw ChatError.forbidden('not allowed: room.read');
    const found = await this.messages.find(roomId, messageId);
    // Joined history: a message from before the reporter joined does not exist for them.
    if (!found || found.row.seq <= access.visible_from_seq) throw ChatError.notFound('message');
    if (found.row.sender_id === actor.user_id) {
      throw ChatError.unprocessable('you cannot report your own message', [{ path: 'message_id', message: 'is your own message' }]);
    }
    const earlier = await this.store.findByReporter(messageId, actor.user_id);
    if (earlier) return { report: toReport(earlier), created: false };
    if (found.row.deleted_at !== null) throw new ChatError('conflict', 'the message was deleted: there is nothing left to report');
    const note = body.note?.trim() ? body.note.trim() : null;
    const { row, created } = await this.store.insert({
      id: this.newId(),
      room_id: roomId,
      message_id: messageId,
      reporter_id: actor.user_id,
      reason: body.reason,
      note,
      message_snapshot: found.snapshot,
    });
    const report = toReport(row);
    if (created) this.record(report);
    return { report, created };
  }

  async list(actor: Actor, status: ReportStatus, limit: number, cursor?: string): Promise<Page<ModerationReport>> {
    requireModerator(actor);
    const after = cursor === undefined ? null : decodeTimeIdCursor(cursor);
    if (cursor !== undefined && after === null)
      throw ChatError.invalid('unknown cursor', [{ path: 'cursor', message: 'not from this list' }]);
    const rows = await this.store.list(status, limit + 1, after);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map((row) => ({ ...toReport(row), message: row.message_snapshot })),
      next_cursor: rows.length > limit && last ? encodeTimeIdCursor({ micros: last.created_micros, id: last.id }) : null,
    };
  }

  async setStatus(actor: Actor, reportId: string, status: 'resolved' | 'dismissed'): Promise<Report> {
    requireModerator(actor);
    const row = await this.store.setStatus(reportId, status, actor.user_id);
    if (!row) throw ChatError.notFound('report');
    return toReport(row);
  }

  /** Records the host events of reports a crash left unrecorded; answers how many it queued. */
  async recordPending(olderThanMs: number, limit = 100): Promise<number> {
    const rows = await this.store.unrecorded(olderThanMs, limit);
    const due = rows.filter((row) => !this.recording.has(row.id));
    for (const row of due) this.record(toReport(row));
    return due.length;
  }

  private record(report: Report): void {
    this.recording.add(report.id);
    this.events.record(report, () => {
      this.store
        .markRecorded(report.id)
        .catch(() => undefined)
        .finally(() => this.recording.delete(report.id));
    });
  }
}

function requireModerator(actor: Actor): void {
  if (!actor.roles.some((role) => MODERATION_ROLES.includes(role))) {
    throw ChatError.forbidden('only moderator and service tokens read and handle reports');
  }
}
