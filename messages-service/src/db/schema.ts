import type { Attachment, Message, Priority, ReportStatus } from '@chat/shared';
import type { ColumnType, Generated } from 'kysely';
import type { AttachmentRow, MessageRow, ReportRow } from '../domain/rows.js';

/** The selected rows of the messages and attachments tables (declared with the rules that read them). */
export type { AttachmentRow, MessageRow };

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

/** One row per room: the last seq handed out. Its row lock serialises a room's writers. */
export interface RoomSequencesTable {
  room_id: string;
  last_seq: number;
}

/** The messages table: the row the domain reads (MessageRow), with how columns are written. */
export interface MessagesTable
  extends Omit<
    MessageRow,
    'thread_root_id' | 'attachments' | 'priority' | 'ack_requested' | 'ack_count' | 'created_at' | 'edited_at' | 'deleted_at'
  > {
  /** The thread root this message replies in (DESIGN 10.5), or null for a top-level message. */
  thread_root_id: ColumnType<string | null, string | null | undefined, string | null>;
  attachments: ColumnType<Attachment[], string, string>;
  priority: ColumnType<Priority, Priority | undefined, Priority>;
  ack_requested: ColumnType<boolean, boolean | undefined, boolean>;
  /** Acknowledgements so far, kept on the row so showing a message needs no count query. */
  ack_count: ColumnType<number, number | undefined, number>;
  created_at: Generated<Date>;
  edited_at: Timestamp | null;
  deleted_at: Timestamp | null;
}

/** The members at send time (less the sender) of a message that asked for acknowledgements. */
export interface AcknowledgementRequestsTable {
  message_id: string;
  room_id: string;
  recipients: string[];
}

export interface AcknowledgementsTable {
  message_id: string;
  user_id: string;
  /** The display name the user presented when acknowledging. */
  name: string | null;
  acknowledged_at: Generated<Date>;
}

/** The per-room event log, append-only: the record replay reads and the relay publishes. */
export interface RoomEventsTable {
  id: Generated<number>;
  room_id: string;
  seq: number;
  type: string;
  /** The event frame exactly as clients receive it. */
  event: string;
  created_at: Generated<Date>;
  /** W3C traceparent of the request that wrote the event. */
  trace_context: string | null;
  /** The seq of the message its message replies to (`reply_to`), for late joiners' gateways. */
  reply_to_seq: number | null;
}

/** Events not yet acknowledged by JetStream: written with the event, deleted by the relay. */
export interface OutboxTable {
  event_id: number;
  room_id: string;
  created_at: Generated<Date>;
  /** From when the relay publishes the row (the writer publishes it itself before then). */
  relay_after: Generated<Date>;
}

/** Searchable text per message, written by the search indexer off the send path (see search-index.ts). */
export interface SearchDocsTable {
  message_id: string;
  room_id: string;
  created_at: Date;
  /** The message row's last change (created, edited or deleted) this document reflects. */
  version: Date;
  /** The message's text; empty once it is deleted. */
  body: string;
}

export interface ReactionsTable {
  message_id: string;
  user_id: string;
  emoji: string;
  created_at: Generated<Date>;
}

/** The attachments table: the row the domain reads (AttachmentRow), with how columns are written. */
export interface AttachmentsTable extends Omit<AttachmentRow, 'created_at' | 'deleted_at' | 'sweep_until' | 'blob_deleted_at'> {
  created_at: Generated<Date>;
  deleted_at: Timestamp | null;
  sweep_until: ColumnType<Date | null, never, Date | null>;
  blob_deleted_at: ColumnType<Date | null, never, Date | null>;
}

/** Reports of messages (DESIGN 10.3); `event_recorded_at` is null until the host event is in JetStream. */
export interface ReportsTable extends Omit<ReportRow, 'status' | 'message_snapshot' | 'created_at'> {
  status: ColumnType<ReportStatus, ReportStatus | undefined, ReportStatus>;
  message_snapshot: ColumnType<Message, string, string>;
  created_at: Generated<Date>;
  updated_at: ColumnType<Date, never, Date>;
  updated_by: string | null;
  event_recorded_at: ColumnType<Date | null, never, Date | null>;
}

export interface MessagesDatabase {
  'messages.attachments': AttachmentsTable;
  'messages.acknowledgement_requests': AcknowledgementRequestsTable;
  'messages.acknowledgements': AcknowledgementsTable;
  'messages.reactions': ReactionsTable;
  'messages.room_sequences': RoomSequencesTable;
  'messages.messages': MessagesTable;
  'messages.room_events': RoomEventsTable;
  'messages.outbox': OutboxTable;
  'messages.search_docs': SearchDocsTable;
  'messages.reports': ReportsTable;
}
