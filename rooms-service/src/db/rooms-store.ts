import type { Kysely } from 'kysely';
import type { RoomsStore } from '../domain/ports.js';
import * as activity from './activity-repository.js';
import * as members from './members-repository.js';
import * as moderation from './moderation-repository.js';
import * as rooms from './rooms-repository.js';
import type { RoomsDatabase } from './schema.js';

/** The rooms domain's store over Postgres: each call is one repository function on this connection or transaction. */
export class SqlRoomsStore implements RoomsStore {
  constructor(private readonly db: Kysely<RoomsDatabase>) {}

  transaction<T>(work: (store: RoomsStore) => Promise<T>): Promise<T> {
    return this.db.transaction().execute((trx) => work(new SqlRoomsStore(trx)));
  }

  recordActivity: RoomsStore['recordActivity'] = (events) => activity.insertActivity(this.db, events);
  forgetActivity = (id: string) => activity.deleteActivity(this.db, id);
  unrecordedActivity = (olderThanMs: number, limit: number) => activity.unrecordedActivity(this.db, olderThanMs, limit);
  lockRoom = (roomId: string) => members.lockRoom(this.db, roomId);
  findRoomView = (roomId: string, userId: string) => rooms.findRoomView(this.db, roomId, userId);
  listRoomViews: RoomsStore['listRoomViews'] = (userId, options) => rooms.listRoomViews(this.db, userId, options);
  findPublicRoom = (roomId: string) => rooms.findPublicRoom(this.db, roomId);
  findAccessFacts = (roomId: string, userId: string) => rooms.findAccessFacts(this.db, roomId, userId);
  ensureDirectRoom: RoomsStore['ensureDirectRoom'] = (key, creator, other) => rooms.ensureDirectRoom(this.db, key, creator, other);
  insertGroupRoom: RoomsStore['insertGroupRoom'] = (owner, title, memberIds, historyVisibility) =>
    rooms.insertGroupRoom(this.db, owner, title, memberIds, historyVisibility);
  ensureContextRoomRow: RoomsStore['ensureContextRoomRow'] = (context, title, creator, historyVisibility) =>
    members.ensureContextRoomRow(this.db, context, title, creator, historyVisibility);
  findHistoryVisibility = (roomId: string) => members.findHistoryVisibility(this.db, roomId);
  findContextRoomId: RoomsStore['findContextRoomId'] = (context) => rooms.findContextRoomId(this.db, context);
  findContextRoomState: RoomsStore['findContextRoomState'] = (context) => rooms.findContextRoomState(this.db, context);
  setRoomClosed = (roomId: string, closed: boolean) => rooms.setRoomClosed(this.db, roomId, closed);
  updateRoomSettings: RoomsStore['updateRoomSettings'] = (roomId, changes) => rooms.updateRoomSettings(this.db, roomId, changes);
  rememberUserNames: RoomsStore['rememberUserNames'] = (users) => rooms.rememberUserNames(this.db, users);

  findMemberRole = (roomId: string, userId: string) => members.findMemberRole(this.db, roomId, userId);
  existingMemberIds = (roomId: string, userIds: string[]) => members.existingMemberIds(this.db, roomId, userIds);
  allMemberIds = (roomId: string) => members.allMemberIds(this.db, roomId);
  memberIdsUpTo = (roomId: string, maxMembers: number) => members.memberIdsUpTo(this.db, roomId, maxMembers);
  countMembers = (roomId: string) => members.countMembers(this.db, roomId);
  listMembers = (roomId: string, offset: number, limit: number) => members.listMembers(this.db, roomId, offset, limit);
  insertMembers: RoomsStore['insertMembers'] = (roomId, userIds, lastReadSeq) =>
    members.insertMembers(this.db, roomId, userIds, lastReadSeq);
  deleteMembers = (roomId: string, userIds: string[]) => members.deleteMembers(this.db, roomId, userIds);
  setMemberRole: RoomsStore['setMemberRole'] = (roomId, userId, role) => members.setMemberRole(this.db, roomId, userId, role);
  promoteSuccessorIfOwnerless = (roomId: string) => members.promoteSuccessorIfOwnerless(this.db, roomId);
  updateMemberSettings: RoomsStore['updateMemberSettings'] = (roomId, userId, settings) =>
    members.updateMemberSettings(this.db, roomId, userId, settings);
  roomIdsOfUsers = (userIds: string[], maxMembers?: number) => members.roomIdsOfUsers(this.db, userIds, maxMembers);
  pushSettings: RoomsStore['pushSettings'] = (roomId, userIds, page) => members.pushSettings(this.db, roomId, userIds, page);

  insertBlock = (blockerId: string, blockedId: string) => moderation.insertBlock(this.db, blockerId, blockedId);
  deleteBlock = (blockerId: string, blockedId: string) => moderation.deleteBlock(this.db, blockerId, blockedId);
  listBlocks = (blockerId: string) => moderation.listBlocks(this.db, blockerId);
  isBlockedBy = (blockerId: string, blockedId: string) => moderation.isBlockedBy(this.db, blockerId, blockedId);
  findDirectRoomId = (key: string) => rooms.findDirectRoomId(this.db, key);
  insertBan = (roomId: string, userId: string, bannedBy: string) => moderation.insertBan(this.db, roomId, userId, bannedBy);
  deleteBan = (roomId: string, userId: string) => moderation.deleteBan(this.db, roomId, userId);
  listBans = (roomId: string) => moderation.listBans(this.db, roomId);
  bannedAmong = (roomId: string, userIds: string[]) => moderation.bannedAmong(this.db, roomId, userIds);

  advanceReadCursor: RoomsStore['advanceReadCursor'] = (roomId, userId, seq) => members.advanceReadCursor(this.db, roomId, userId, seq);
  countUnread: RoomsStore['countUnread'] = (roomId, userId, afterSeq) => members.countUnread(this.db, roomId, userId, afterSeq);
  unreadByRoom = (userId: string) => members.unreadByRoom(this.db, userId);
  readersAtOrAfter: RoomsStore['readersAtOrAfter'] = (roomId, seq, senderId) => members.readersAtOrAfter(this.db, roomId, seq, senderId);
}
