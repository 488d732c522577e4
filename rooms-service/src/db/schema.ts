import type { RoomActivityType } from '@chat/shared';
import type { ColumnType, Generated, Selectable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export interface RoomsTable {
  id: Generated<string>;
  kind: 'direct' | 'group' | 'context';
  title: string | null;
  /** Sorted pair of user ids of a direct room: the unique key that makes creation idempotent. */
  direct_key: string | null;
  context_type: string | null;
  context_id: string | null;
  created_by: string;
  created_at: Generated<Date>;
  last_seq: Generated<number>;
  last_message_seq: Generated<number>;
  /** The last message as published (JSON text), shown in room lists. */
  last_message: string | null;
  last_activity_at: Generated<Date>;
  /** Set while the host object is closed: the room is read-only (DESIGN 10.3). */
  closed_at: Timestamp | null;
  history_visibility: Generated<'shared' | 'joined'>;
}
export type RoomRow = Selectable<RoomsTable>;

export interface MembersTable {
  room_id: string;
  user_id: string;
  role: 'owner' | 'admin' | 'member';
  joined_at: Generated<Date>;
  last_read_seq: Generated<number>;
  muted_until: Timestamp | null;
  notify: Generated<'all' | 'mentions' | 'none'>;
  archived: Generated<boolean>;
  /** The room's last seq when the member joined: under `joined` visibility they see only what follows. */
  joined_seq: Generated<number>;
}
export type MemberRow = Selectable<MembersTable>;

export interface UsersTable {
  user_id: string;
  /** The display name the user last presented in a token. */
  name: string | null;
  updated_at: Generated<Date>;
}

/** A slim copy of each message (from the event stream) for unread counts. */
export interface CountedMessagesTable {
  room_id: string;
  seq: number;
  sender_id: string;
  deleted: boolean;
}

export interface BlocksTable {
  blocker_id: string;
  blocked_id: string;
  created_at: Generated<Date>;
}

export interface BansTable {
  room_id: string;
  user_id: string;
  banned_by: string;
  created_at: Generated<Date>;
}

/** Host events written with the change they announce, until JetStream has them (0004_activity_outbox). */
export interface ActivityOutboxTable {
  /** Write order: a change's events, and changes of one room, are recorded again in it. */
  position: Generated<number>;
  id: string;
  room_id: string;
  type: RoomActivityType;
  data: ColumnType<Record<string, unknown>, string, never>;
  occurred_at: ColumnType<Date, Date | string, never>;
  /** The database's clock: the sweep's age is measured on it, whatever the writers' clocks say. */
  created_at: Generated<Date>;
}

export interface RoomsDatabase {
  'rooms.activity_outbox': ActivityOutboxTable;
  'rooms.blocks': BlocksTable;
  'rooms.bans': BansTable;
  'rooms.rooms': RoomsTable;
  'rooms.members': MembersTable;
  'rooms.users': UsersTable;
  'rooms.counted_messages': CountedMessagesTable;
}
