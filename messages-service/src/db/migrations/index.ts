import type { Migration } from 'kysely';
import * as initial from './0001_initial.js';
import * as reactions from './0002_reactions.js';
import * as search from './0003_search.js';
import * as attachments from './0004_attachments.js';
import * as eventTraceContext from './0005_event_trace_context.js';
import * as outboxTable from './0006_outbox_table.js';
import * as ginPendingList from './0007_gin_pending_list.js';

/** Ordered by name; a new migration gets the next number and is never edited once released. */
export const messagesMigrations: Record<string, Migration> = {
  '0001_initial': initial,
  '0002_reactions': reactions,
  '0003_search': search,
  '0004_attachments': attachments,
  '0005_event_trace_context': eventTraceContext,
  '0006_outbox_table': outboxTable,
  '0007_gin_pending_list': ginPendingList,
};
