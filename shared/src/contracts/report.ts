import { z } from 'zod';
import { MessageIdSchema, pageSchema, RoomIdSchema, TimestampSchema, UserIdSchema } from './common.js';
import { MessageSchema } from './message.js';
import { LimitQuery } from './rest.js';

/** Reports of messages and the moderators' queue (DESIGN 10.3). */
export const ReportReasonSchema = z.enum(['spam', 'harassment', 'inappropriate', 'other']);
export type ReportReason = z.infer<typeof ReportReasonSchema>;
export const ReportStatusSchema = z.enum(['open', 'resolved', 'dismissed']);
export type ReportStatus = z.infer<typeof ReportStatusSchema>;

export const REPORT_NOTE_MAX_CHARS = 1000;

export const CreateReportBodySchema = z.object({
  reason: ReportReasonSchema,
  note: z.string().max(REPORT_NOTE_MAX_CHARS).optional().describe(`What the reporter adds, at most ${REPORT_NOTE_MAX_CHARS} characters`),
});
export type CreateReportBody = z.infer<typeof CreateReportBodySchema>;

export const ReportSchema = z.object({
  id: z.uuid(),
  room_id: RoomIdSchema,
  message_id: MessageIdSchema,
  reporter_id: UserIdSchema,
  reason: ReportReasonSchema,
  note: z.string().nullable(),
  status: ReportStatusSchema,
  created_at: TimestampSchema,
});
export type Report = z.infer<typeof ReportSchema>;

/** What a moderator lists: the report with the message as it was when it was first reported. */
export const ModerationReportSchema = ReportSchema.extend({
  message: MessageSchema.describe('A snapshot of the message taken when it was reported (later edits and deletes do not change it)'),
});
export type ModerationReport = z.infer<typeof ModerationReportSchema>;
export const ModerationReportPageSchema = pageSchema(ModerationReportSchema);

export const ListReportsQuerySchema = z.object({
  status: ReportStatusSchema.optional().describe('Default `open`'),
  limit: LimitQuery(100).optional().describe('Default 50'),
  cursor: z.string().max(200).optional(),
});

export const UpdateReportBodySchema = z.object({ status: z.enum(['resolved', 'dismissed']) });
export type UpdateReportBody = z.infer<typeof UpdateReportBodySchema>;
