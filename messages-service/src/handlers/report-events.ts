import type { Logger } from '@chat/shared/logging';
import type { RoomActivityPublisher } from '@chat/shared/nats';
import { runEvery } from '@chat/shared/ops';
import type { MessageReports, ReportEvents } from '../domain/reports.js';

/** `message.reported` on the room activity stream, with an id that stays the same when recorded again. */
export function reportEventsOverNats(activity: RoomActivityPublisher): ReportEvents {
  return {
    record: (report, onRecorded) =>
      activity.publish(
        report.room_id,
        'message.reported',
        { report },
        { id: `evt_report_${report.id}`, occurredAt: report.created_at, onRecorded },
      ),
  };
}

/**
 * Re-records the host events of reports committed just before a crash (their row says the event was
 * never acknowledged by JetStream). Runs at start and then every `everyMs`.
 */
export function runReportEventSweep(reports: MessageReports, options: { everyMs: number; olderThanMs: number; logger: Logger }) {
  return runEvery(
    options.everyMs,
    async () => {
      const queued = await reports.recordPending(options.olderThanMs);
      if (queued > 0) options.logger.warn({ queued }, 're-recording report events left unrecorded by an earlier process');
    },
    { logger: options.logger, what: 'report event sweep' },
  );
}
