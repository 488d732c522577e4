import type {
  ContextRef,
  EphemeralEvent,
  HistoryVisibility,
  Member,
  NotifyLevel,
  Role,
  RoomActivity,
  RoomKind,
  TimeIdCursor,
} from '@chat/shared';

/** Ephemeral room signals (membership, read, presence) reach the gateways through this. */
export interface RoomSignals {
  publish(roomId: string, event: EphemeralEvent): void;
  /**
   * Host events already in the activity outbox (written with their change), to the room activity
   * stream for the event webhook (DESIGN 10.4); each leaves the outbox once JetStream has it.
   */
  recorded(events: readonly RoomActivity[]): void;
  /** What a member may do changed with nothing visible to announce (a block): caches of access answers forget the room. */
  accessChanged(roomId: string): void;
}

/** The authoritative last seq of a room (the messages service owns the sequence). */
export interface SequenceSource {
  lastSeq(roomId: string): Promise<number>;
}

/** A room as one member sees it, as stored (db/ reads it; room-view.ts makes the contract's Room). */
export interface RoomViewRow {
  id: string;
  kind: RoomKind;
  title: string | null;
  direct_title: string | null;
  context_type: string | null;
  context_id: string | null;
  created_by: string;
  created_at: Date;
  last_seq: number;
  last_message: string | null;
  activity_micros: number;
  member_count: number;
  closed_at: Date | null;
  history_visibility: HistoryVisibility;
  role: Role;
  last_read_seq: number;
  unread_count: number;
  muted_until: Date | null;
  notify: NotifyLevel;
  archived: boolean;
  visible_from_seq: number;
}

/** The room as every member sees it (no `me`). */
export type PublicRoomRow = Omit<
  RoomViewRow,
  | 'role'
  | 'last_read_seq'
  | 'unread_count'
  | 'muted_until'
  | 'notify'
  | 'archived'
  | 'direct_title'
  | 'activity_micros'
  | 'visible_from_seq'
>;

/** What access decisions need: the room's kind (null: no such room), the caller's role (null: not a member). */
export interface AccessRow {
  kind: RoomKind | null;
  role: Role | null;
  closed: boolean;
  /** Under joined history, the member's joined_seq; else 0. */
  visibleFromSeq: number;
  /** A direct room whose other member blocked this user. */
  blocked: boolean;
}

export interface BanRow {
  user_id: string;
  banned_by: string;
  created_at: Date;
}

export interface PushSettingsRow {
  user_id: string;
  name: string | null;
  muted_until: string | null;
  notify: NotifyLevel;
  last_read_seq: number;
  visible_from_seq: number;
}

/** Where a page of push settings starts (after this user id; none: the first) and how many rows it reads. */
export interface PushSettingsPage {
  after: string | undefined;
  limit: number;
}

export type MembershipSettings = {
  muted_until?: string | null | undefined;
  notify?: NotifyLevel | undefined;
  archived?: boolean | undefined;
};

/**
 * The rooms service's storage, as its rules need it; db/rooms-store.ts implements it with SQL.
 * Inside `transaction`, the store given to the work runs every call in that one transaction.
 */
export interface RoomsStore {
  transaction<T>(work: (store: RoomsStore) => Promise<T>): Promise<T>;
  /** Host events into the activity outbox: inside `transaction`, committed with the change. */
  recordActivity(events: readonly RoomActivity[]): Promise<void>;
  forgetActivity(id: string): Promise<void>;
  /** Outbox rows older than `olderThanMs` (their process died before JetStream had them), oldest first. */
  unrecordedActivity(olderThanMs: number, limit: number): Promise<RoomActivity[]>;
  /** Locks the room row until the transaction ends: membership changes of one room happen one at a time. */
  lockRoom(roomId: string): Promise<{ id: string; kind: RoomKind; last_seq: number } | undefined>;

  findRoomView(roomId: string, userId: string): Promise<RoomViewRow | undefined>;
  listRoomViews(userId: string, options: { archived: boolean; limit: number; after?: TimeIdCursor | undefined }): Promise<RoomViewRow[]>;
  findPublicRoom(roomId: string): Promise<PublicRoomRow | undefined>;
  findAccessFacts(roomId: string, userId: string): Promise<AccessRow>;
  /** The direct room of a pair (by its key), created when missing. */
  ensureDirectRoom(key: string, creator: string, other: string): Promise<{ roomId: string; created: boolean }>;
  insertGroupRoom(owner: string, title: string, memberIds: string[], historyVisibility?: HistoryVisibility): Promise<string>;
  ensureContextRoomRow(
    context: ContextRef,
    title: string | null,
    creator: string,
    historyVisibility: HistoryVisibility | undefined,
  ): Promise<{ roomId: string; created: boolean }>;
  findHistoryVisibility(roomId: string): Promise<HistoryVisibility | undefined>;
  findContextRoomId(context: ContextRef): Promise<string | undefined>;
  findContextRoomState(context: ContextRef): Promise<{ id: string; closed: boolean } | undefined>;
  /** True when it changed. */
  setRoomClosed(roomId: string, closed: boolean): Promise<boolean>;
  /** Renames and/or sets the history visibility; true when anything changed. */
  updateRoomSettings(
    roomId: string,
    changes: { title?: string | undefined; history_visibility?: HistoryVisibility | undefined },
  ): Promise<boolean>;
  rememberUserNames(users: Array<{ user_id: string; name: string | null }>): Promise<void>;

  findMemberRole(roomId: string, userId: string): Promise<Role | null>;
  existingMemberIds(roomId: string, userIds: string[]): Promise<Set<string>>;
  allMemberIds(roomId: string): Promise<string[]>;
  /** Member ids, or null when there are more than `maxMembers`. */
  memberIdsUpTo(roomId: string, maxMembers: number): Promise<string[] | null>;
  countMembers(roomId: string): Promise<number>;
  listMembers(roomId: string, offset: number, limit: number): Promise<Member[]>;
  /** New members start read up to `joinedSeq` and remember it (joined history starts there). */
  insertMembers(roomId: string, userIds: string[], joinedSeq: number): Promise<void>;
  deleteMembers(roomId: string, userIds: string[]): Promise<void>;
  setMemberRole(roomId: string, userId: string, role: Role): Promise<void>;
  /** When the room has no owner left, its longest-standing member becomes one. */
  promoteSuccessorIfOwnerless(roomId: string): Promise<string | undefined>;
  updateMemberSettings(roomId: string, userId: string, settings: MembershipSettings): Promise<void>;
  /** The rooms each user is in, with where their view starts (joined history; 0 elsewhere). */
  roomIdsOfUsers(userIds: string[], maxMembers?: number): Promise<Map<string, Array<{ room_id: string; visible_from_seq: number }>>>;
  /** By user id; with a page, after `page.after` and at most `page.limit` rows. */
  pushSettings(roomId: string, userIds: string[] | undefined, page?: PushSettingsPage): Promise<PushSettingsRow[]>;

  /** Moves the read cursor forward only. */
  advanceReadCursor(roomId: string, userId: string, seq: number): Promise<{ lastReadSeq: number; moved: boolean } | undefined>;
  countUnread(roomId: string, userId: string, afterSeq: number): Promise<number>;
  unreadByRoom(userId: string): Promise<Array<{ room_id: string; unread_count: number }>>;
  insertBlock(blockerId: string, blockedId: string): Promise<Date>;
  deleteBlock(blockerId: string, blockedId: string): Promise<void>;
  listBlocks(blockerId: string): Promise<Array<{ user_id: string; blocked_at: Date }>>;
  isBlockedBy(blockerId: string, blockedId: string): Promise<boolean>;
  /** The direct room of a pair, by its key. */
  findDirectRoomId(key: string): Promise<string | undefined>;
  insertBan(roomId: string, userId: string, bannedBy: string): Promise<BanRow>;
  deleteBan(roomId: string, userId: string): Promise<void>;
  listBans(roomId: string): Promise<BanRow[]>;
  /** Which of these users are banned from the room. */
  bannedAmong(roomId: string, userIds: string[]): Promise<string[]>;

  readersAtOrAfter(
    roomId: string,
    seq: number,
    senderId: string,
  ): Promise<Array<{ user_id: string; name: string | null; last_read_seq: number }>>;
}
