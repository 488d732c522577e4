import type { Attachment, MessageKind } from '@chat/shared';
import type { ColumnType, Generated, Selectable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

/** One row per room: the last seq handed out. Its row lock serialises a room's writers. */
export interface RoomSequencesTable {
  room_id: string;
  last_seq: number;
}

export interface MessagesTable {
  id: string;
  room_id: string;
  seq: number;
  sender_id: string;
  sender_name: string | null;
  client_msg_id: string;
  kind: MessageKind;
  body: string;
  mentions: string[];
  reply_to: string | null;
  attachments: ColumnType<Attachment[], string, string>;
  created_at: Generated<Date>;
  edited_at: Timestamp | null;
  deleted_at: Timestamp | null;
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
}

/** Events not yet acknowledged by JetStream: written with the event, deleted by the relay. */
export interface OutboxTable {
  event_id: number;
  room_id: string;
  created_at: Generated<Date>;
}

export interface ReactionsTable {
  message_id: string;
  user_id: string;
  emoji: string;
  created_at: Generated<Date>;
}

export interface AttachmentsTable {
  id: string;
  room_id: string;
  uploader_id: string;
  message_id: string | null;
  name: string;
  content_type: string;
  size: number;
  width: number | null;
  height: number | null;
  storage_key: string;
  created_at: Generated<Date>;
  deleted_at: Timestamp | null;
}

export type AttachmentRow = Selectable<AttachmentsTable>;

export interface MessagesDatabase {
  'messages.attachments': AttachmentsTable;
  'messages.reactions': ReactionsTable;
  'messages.room_sequences': RoomSequencesTable;
  'messages.messages': MessagesTable;
  'messages.room_events': RoomEventsTable;
  'messages.outbox': OutboxTable;
}

export type MessageRow = Selectable<MessagesTable>;
