import type { Migration } from 'kysely';
import * as initial from './0001_initial.js';
import * as reactions from './0002_reactions.js';
import * as search from './0003_search.js';
import * as attachments from './0004_attachments.js';
import * as eventTraceContext from './0005_event_trace_context.js';
import * as outboxTable from './0006_outbox_table.js';
import * as ginPendingList from './0007_gin_pending_list.js';
import * as outboxRelayAfter from './0008_outbox_relay_after.js';
import * as attachmentsByUploader from './0010_attachments_by_uploader.js';
import * as acknowledgements from './0011_acknowledgements.js';
import * as threads from './0014_threads.js';
import * as attachmentThumbnails from './0015_attachment_thumbnails.js';
import * as searchDocs from './0016_search_docs.js';
import * as attachmentBlobSweep from './0018_attachment_blob_sweep.js';
import * as reports from './0019_reports.js';
import * as eventReplyToSeq from './0020_event_reply_to_seq.js';

/** Ordered by name; a new migration gets the next number and is never edited once released. */
export const messagesMigrations: Record<string, Migration> = {
  '0001_initial': initial,
  '0002_reactions': reactions,
  '0003_search': search,
  '0004_attachments': attachments,
  '0005_event_trace_context': eventTraceContext,
  '0006_outbox_table': outboxTable,
  '0007_gin_pending_list': ginPendingList,
  '0008_outbox_relay_after': outboxRelayAfter,
  '0010_attachments_by_uploader': attachmentsByUploader,
  '0011_acknowledgements': acknowledgements,
  '0014_threads': threads,
  '0015_attachment_thumbnails': attachmentThumbnails,
  '0016_search_docs': searchDocs,
  '0018_attachment_blob_sweep': attachmentBlobSweep,
  '0019_reports': reports,
  '0020_event_reply_to_seq': eventReplyToSeq,
};
