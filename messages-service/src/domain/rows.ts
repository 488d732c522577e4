import type { Attachment, Message, MessageKind, Priority, ReportReason, ReportStatus } from '@chat/shared';

/**
 * Stored rows as the messages domain reads them, declared once: db/schema.ts declares the tables
 * with these as their selected rows, so a column added to a table must be added here too (the
 * repository's typed queries do not compile otherwise); the domain never sees a query builder.
 */
export interface MessageRow {
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
  thread_root_id: string | null;
  attachments: Attachment[];
  priority: Priority;
  ack_requested: boolean;
  ack_count: number;
  created_at: Date;
  edited_at: Date | null;
  deleted_at: Date | null;
}

/** A message as a send hands it to the store, before it has a seq. */
export interface MessageDraft {
  id: string;
  room_id: string;
  sender_id: string;
  sender_name: string | null;
  client_msg_id: string;
  kind: MessageRow['kind'];
  body: string;
  mentions: string[];
  reply_to: string | null;
  thread_root_id: string | null;
  attachments: MessageRow['attachments'];
  priority: MessageRow['priority'];
  ack_requested: boolean;
}

export interface AttachmentRow {
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
  /** The thumbnail beside the image (`<storage_key>.thumb`), when one was made at upload. */
  thumbnail_content_type: string | null;
  thumbnail_size: number | null;
  thumbnail_width: number | null;
  thumbnail_height: number | null;
  created_at: Date;
  deleted_at: Date | null;
  sweep_until: Date | null;
  blob_deleted_at: Date | null;
}

/** Reactions of one message by emoji, with whether the viewer is among them. */
export interface ReactionCount {
  message_id: string;
  emoji: string;
  count: number;
  me: boolean;
}

/** The replies of one thread root, summed up. */
export interface ThreadSummaryRow {
  root_id: string;
  reply_count: number;
  last_reply_at: Date;
  participant_ids: string[];
}

/** A stored report, with the message as it was when reported (DESIGN 10.3). */
export interface ReportRow {
  id: string;
  room_id: string;
  message_id: string;
  reporter_id: string;
  reason: ReportReason;
  note: string | null;
  status: ReportStatus;
  message_snapshot: Message;
  created_at: Date;
}
