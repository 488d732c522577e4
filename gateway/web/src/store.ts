import type { AcknowledgementList, Member, Message, Room } from '@chat/shared';
import { ChatClient, type ConnectionStatus, type Frame, type OutboxEntry, storageOutbox } from '@chat/shared/sdk';

export interface WebConfig {
  ws_url: string;
  http_url: string;
  attachment_max_bytes: number;
  dev_tokens: boolean;
}

type Change = 'rooms' | 'messages' | 'room' | 'status' | 'typing' | 'thread';

/** The search answer: matching messages, newest first. */
export interface SearchPage {
  items: Message[];
  next_cursor: string | null;
}

/**
 * The chatbox's state and actions, on top of the SDK. Views read the state and re-render on the
 * change they are told about; every server write goes through the SDK (socket) or its REST helper.
 */
export class ChatStore {
  readonly client: ChatClient;
  rooms: Room[] = [];
  activeRoomId: string | null = null;
  /** Per room, the top-level messages loaded (thread replies live in `threads`). */
  readonly messages = new Map<string, Message[]>();
  /** Per thread root, its replies loaded, oldest first (DESIGN 10.5). */
  readonly threads = new Map<string, Message[]>();
  readonly threadHasOlder = new Map<string, boolean>();
  /** The room of each loaded thread (a resync of the room reloads it). */
  private readonly threadRooms = new Map<string, string>();
  readonly hasOlder = new Map<string, boolean>();
  readonly members = new Map<string, Member[]>();
  /** Members with an open socket, per room (from subscribe acks and presence events). */
  readonly online = new Map<string, Set<string>>();
  readonly typing = new Map<string, Map<string, { name: string; until: number }>>();
  readonly unread = new Map<string, number>();
  /** My own reactions: events carry no `me`, so they are followed from reaction.updated. */
  readonly mine = new Map<string, Set<string>>();
  /** Messages I acknowledged (events carry only the count). */
  private readonly acknowledgedByMe = new Set<string>();
  /** Who acknowledged a message that asked for it, loaded when it is shown, refreshed by its events. */
  readonly acknowledgementLists = new Map<string, AcknowledgementList>();
  private readonly loadingAcknowledgements = new Set<string>();
  /** Users I blocked (DESIGN 10.3): their messages are hidden in groups. */
  readonly blocked = new Set<string>();
  /** The token's roles (a moderator sees the reports), read from its payload; the server decides. */
  readonly roles: readonly string[];
  /** Per room, the message the "New messages" divider sits above (set when the room is opened). */
  readonly dividerBefore = new Map<string, string>();
  status: ConnectionStatus = 'idle';
  private listeners = new Set<(change: Change) => void>();
  private incomingListeners = new Set<(roomId: string, message: Message) => void>();
  private flashListeners = new Set<(text: string) => void>();
  private refreshTimer: ReturnType<typeof setInterval> | undefined;

  constructor(
    readonly config: WebConfig,
    readonly token: string,
  ) {
    this.roles = tokenPayload(token).roles ?? [];
    this.client = new ChatClient({
      url: config.ws_url,
      httpUrl: config.http_url || location.origin,
      token,
      outbox: storageOutbox(localStorage, outboxKey(token)),
    });
    this.client.on('status', (status) => {
      this.status = status;
      this.notify('status');
    });
    this.client.on('event', (frame) => this.apply(frame));
    this.client.on('outbox', () => {
      this.notify('messages');
      this.notify('thread');
    });
    this.client.on('resync', (roomId) => {
      void this.reloadHistory(roomId);
      // Too much was missed to replay: loaded threads of the room are read again too.
      for (const [rootId, threadRoomId] of this.threadRooms) if (threadRoomId === roomId) void this.loadThread(roomId, rootId);
    });
    this.client.on('unread', (summary) => {
      this.unread.clear();
      for (const room of summary.rooms) this.unread.set(room.room_id, room.unread_count);
      this.notify('rooms');
    });
  }

  get me(): string | undefined {
    return this.client.user;
  }

  onChange(listener: (change: Change) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** New messages from others (live, not replayed history): for the title, notifications, live region. */
  onIncoming(listener: (roomId: string, message: Message) => void): () => void {
    this.incomingListeners.add(listener);
    return () => this.incomingListeners.delete(listener);
  }

  /** Short confirmations ("Reported."), shown and announced by the page. */
  onFlash(listener: (text: string) => void): () => void {
    this.flashListeners.add(listener);
    return () => this.flashListeners.delete(listener);
  }

  flash(text: string): void {
    for (const listener of this.flashListeners) listener(text);
  }

  get isModerator(): boolean {
    return this.roles.includes('moderator') || this.roles.includes('service');
  }

  private notify(change: Change): void {
    for (const listener of this.listeners) listener(change);
  }

  async start(): Promise<void> {
    await this.client.connect();
    await Promise.all([this.refreshRooms(), this.loadBlocks()]);
    // Rooms created by others reach us with the next refresh; the socket has no per-user feed.
    this.refreshTimer = setInterval(() => void this.refreshRooms(), 15_000);
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') void this.refreshRooms().then(() => this.markActiveRead());
    });
  }

  /** Signs out: the socket closes for good and this user's unsent messages leave this browser. */
  signOut(): void {
    clearInterval(this.refreshTimer);
    this.client.close();
    localStorage.removeItem(outboxKey(this.token));
  }

  /** Total unread over my rooms, for the page title. */
  get totalUnread(): number {
    let total = 0;
    for (const room of this.rooms) total += this.unread.get(room.id) ?? 0;
    return total;
  }

  async refreshRooms(): Promise<void> {
    const page = await this.client.listRooms('?limit=100');
    this.rooms = page.items;
    // The open room stays while it is open, even when it left the list (closed by its host
    // object, or reached from a search): its screen needs it, and shows why it is read-only.
    const active = this.activeRoomId;
    if (active && !this.rooms.some((r) => r.id === active)) {
      const room = await this.client.api<Room>('GET', `/v1/rooms/${active}`).catch(() => undefined);
      if (room) this.rooms = [...this.rooms, room];
    }
    for (const room of this.rooms) {
      this.unread.set(room.id, room.me.unread_count);
      if (!this.online.has(room.id)) {
        this.online.set(room.id, new Set());
        void this.client.subscribe(room.id).then((ack) => {
          this.online.set(room.id, new Set((ack.online as string[] | undefined) ?? []));
          this.notify('rooms');
        });
      }
    }
    this.notify('rooms');
  }

  get activeRoom(): Room | undefined {
    return this.rooms.find((r) => r.id === this.activeRoomId);
  }

  async open(roomId: string | null): Promise<void> {
    this.activeRoomId = roomId;
    if (roomId && !this.rooms.some((r) => r.id === roomId)) await this.refreshRooms();
    const unreadAtOpen = roomId ? (this.unread.get(roomId) ?? 0) : 0;
    this.notify('room');
    if (!roomId) return;
    if (!this.messages.has(roomId)) await this.reloadHistory(roomId);
    this.placeDivider(roomId, unreadAtOpen);
    this.loadMembers(roomId).catch(() => undefined);
    await this.markActiveRead();
  }

  /**
   * The divider goes above the first unread message. Unread counts only others' messages that
   * are not deleted (DESIGN 6), so it is the Nth such message from the end.
   */
  private placeDivider(roomId: string, unread: number): void {
    this.dividerBefore.delete(roomId);
    if (unread <= 0) return;
    const loaded = this.messages.get(roomId) ?? [];
    // What came before my own last message was seen when I wrote it (the server may count it
    // unread if I answered from another device without reading here).
    const myLast = loaded.findLastIndex((m) => m.sender_id === this.me);
    const theirs = loaded.filter((m, index) => index > myLast && m.sender_id !== this.me && !m.deleted_at);
    const first = theirs[Math.max(0, theirs.length - unread)];
    if (first) this.dividerBefore.set(roomId, first.id);
  }

  /** Loads older pages until the message with `seq` is loaded (a search result's place). */
  async loadUntil(roomId: string, seq: number): Promise<boolean> {
    await this.loadOlderUntil(roomId, (loaded) => (loaded[0]?.seq ?? 0) <= seq);
    return (this.messages.get(roomId) ?? []).some((m) => m.seq === seq);
  }

  /** Loads older pages until the top-level message `id` is loaded (a thread's root, for a reply found by search). */
  async loadUntilMessage(roomId: string, id: string): Promise<Message | undefined> {
    await this.loadOlderUntil(roomId, (loaded) => loaded.some((m) => m.id === id));
    return this.findMessage(roomId, id);
  }

  /** Older pages of the room (at most 40) until `reached` holds for what is loaded, or there are none. */
  private async loadOlderUntil(roomId: string, reached: (loaded: readonly Message[]) => boolean): Promise<void> {
    if (!this.messages.has(roomId)) await this.reloadHistory(roomId);
    for (let pages = 0; pages < 40; pages++) {
      if (reached(this.messages.get(roomId) ?? []) || !(await this.loadOlder(roomId))) return;
    }
  }

  async reloadHistory(roomId: string): Promise<void> {
    this.keepPage(this.messages, this.hasOlder, roomId, await this.client.history(roomId, undefined, 50, { topLevel: true }), false);
    this.notify('messages');
  }

  /** Infinite scroll: the page before the oldest loaded message. */
  async loadOlder(roomId: string): Promise<boolean> {
    const oldest = this.messages.get(roomId)?.[0];
    if (!oldest || !this.hasOlder.get(roomId)) return false;
    this.keepPage(this.messages, this.hasOlder, roomId, await this.client.history(roomId, oldest.seq, 50, { topLevel: true }), true);
    this.notify('messages');
    return true;
  }

  /** A thread's latest replies (the root is in the room's messages). */
  async loadThread(roomId: string, rootId: string): Promise<void> {
    this.keepPage(this.threads, this.threadHasOlder, rootId, await this.client.thread(roomId, rootId), false);
    this.threadRooms.set(rootId, roomId);
    this.notify('thread');
  }

  async loadOlderReplies(roomId: string, rootId: string): Promise<boolean> {
    const oldest = this.threads.get(rootId)?.[0];
    if (!oldest || !this.threadHasOlder.get(rootId)) return false;
    this.keepPage(this.threads, this.threadHasOlder, rootId, await this.client.thread(roomId, rootId, oldest.seq), true);
    this.notify('thread');
    return true;
  }

  /** A page of history under `key`: instead of what is loaded, or (`older`) before it. */
  private keepPage(
    lists: Map<string, Message[]>,
    hasOlder: Map<string, boolean>,
    key: string,
    page: { items: Message[]; next_cursor: string | null },
    older: boolean,
  ): void {
    for (const message of page.items) this.rememberMine(message);
    lists.set(key, older ? [...page.items, ...(lists.get(key) ?? [])] : page.items);
    hasOlder.set(key, page.next_cursor !== null);
  }

  /** A top-level message of the room, if loaded (a thread's root). */
  findMessage(roomId: string, id: string): Message | undefined {
    return this.messages.get(roomId)?.find((m) => m.id === id);
  }

  async markActiveRead(): Promise<void> {
    const roomId = this.activeRoomId;
    const last = roomId ? this.messages.get(roomId)?.at(-1) : undefined;
    if (!roomId || !last || document.visibilityState !== 'visible') return;
    const ack = await this.client.markRead(roomId, Math.max(last.seq, this.client.lastSeq(roomId) ?? 0)).catch(() => undefined);
    if (ack) {
      this.unread.set(roomId, ack.unread_count);
      this.notify('rooms');
    }
  }

  private apply(frame: Frame): void {
    const roomId = String(frame.room_id);
    switch (frame.type) {
      case 'message.created':
      case 'message.updated':
      case 'message.deleted':
      case 'message.acknowledged':
      case 'reaction.updated': {
        const message = frame.message as Message;
        if (frame.type === 'message.acknowledged') {
          if (frame.user_id === this.me) this.acknowledgedByMe.add(message.id);
          if (this.acknowledgementLists.has(message.id)) void this.loadAcknowledgements(roomId, message.id, true);
        }
        if (message.thread_root_id) this.applyReply(roomId, message, frame.type);
        else this.upsert(roomId, message);
        if (frame.type === 'reaction.updated' && frame.user_id === this.me) {
          const set = this.mine.get(message.id) ?? new Set<string>();
          if (frame.action === 'added') set.add(String(frame.emoji));
          else set.delete(String(frame.emoji));
          this.mine.set(message.id, set);
        }
        this.touchRoom(roomId, message, frame.type === 'message.created');
        if (frame.type === 'message.created') {
          if (this.typing.get(roomId)?.delete(message.sender_id)) this.notify('typing');
          if (message.sender_id !== this.me) {
            // A message that arrives while the page is hidden starts the divider of the open room.
            if (
              roomId === this.activeRoomId &&
              !message.thread_root_id &&
              document.visibilityState !== 'visible' &&
              !this.dividerBefore.has(roomId)
            )
              this.dividerBefore.set(roomId, message.id);
            for (const listener of this.incomingListeners) listener(roomId, message);
            if (roomId === this.activeRoomId) void this.markActiveRead();
          } else if (roomId === this.activeRoomId) this.dividerBefore.delete(roomId);
        }
        this.notify('messages');
        return;
      }
      case 'typing': {
        if (frame.user_id === this.me) return;
        const map = this.typing.get(roomId) ?? new Map();
        const ttl = Number(frame.ttl_ms ?? 6000);
        map.set(String(frame.user_id), { name: String(frame.name ?? frame.user_id), until: Date.now() + ttl });
        this.typing.set(roomId, map);
        this.notify('typing');
        setTimeout(() => this.notify('typing'), ttl + 50);
        return;
      }
      case 'presence': {
        const set = this.online.get(roomId) ?? new Set<string>();
        if (frame.status === 'online') set.add(String(frame.user_id));
        else set.delete(String(frame.user_id));
        this.online.set(roomId, set);
        this.notify('rooms');
        return;
      }
      case 'read': {
        const members = this.members.get(roomId);
        const member = members?.find((m) => m.user_id === frame.user_id);
        if (member) member.last_read_seq = Math.max(member.last_read_seq, Number(frame.seq));
        this.notify('messages');
        return;
      }
      case 'room.updated':
      case 'member.added':
        void this.refreshRooms();
        if (frame.type === 'member.added' && this.members.has(roomId)) this.loadMembers(roomId).catch(() => undefined);
        return;
      case 'member.removed':
        if (frame.user_id === this.me) {
          this.rooms = this.rooms.filter((r) => r.id !== roomId);
          if (this.activeRoomId === roomId) void this.open(null);
          this.notify('rooms');
        } else {
          void this.refreshRooms();
          if (this.members.has(roomId)) this.loadMembers(roomId).catch(() => undefined);
        }
        return;
    }
  }

  /**
   * A thread reply's event: kept in its thread when loaded, and counted on its root (events carry
   * no summary, DESIGN 10.5: clients count). Each event is applied once (the SDK drops repeats).
   */
  private applyReply(roomId: string, reply: Message, type: Frame['type']): void {
    const rootId = reply.thread_root_id as string;
    const replies = this.threads.get(rootId);
    if (replies) this.upsertInto(replies, reply);
    const root = this.findMessage(roomId, rootId);
    if (root && (type === 'message.created' || type === 'message.deleted')) {
      const summary = root.thread ?? { reply_count: 0, last_reply_at: reply.created_at, participant_ids: [] };
      const count = summary.reply_count + (type === 'message.created' ? 1 : -1);
      root.thread =
        count <= 0
          ? null
          : {
              reply_count: count,
              last_reply_at: type === 'message.created' ? reply.created_at : summary.last_reply_at,
              participant_ids: summary.participant_ids.includes(reply.sender_id)
                ? summary.participant_ids
                : [...summary.participant_ids, reply.sender_id].slice(0, 10),
            };
    }
    this.notify('thread');
  }

  private upsert(roomId: string, message: Message): void {
    const list = this.messages.get(roomId);
    if (list) this.upsertInto(list, message);
  }

  private upsertInto(list: Message[], message: Message): void {
    const index = list.findIndex((m) => m.id === message.id);
    const merged = {
      ...message,
      // Events carry no thread summary (clients count): an edit or reaction on a root keeps its count.
      thread: message.thread ?? list[index]?.thread ?? null,
      reactions: message.reactions.map((r) => ({ ...r, me: this.mine.get(message.id)?.has(r.emoji) ?? false })),
      acknowledgements: { count: message.acknowledgements.count, me: this.acknowledgedByMe.has(message.id) },
    };
    if (index >= 0) list[index] = merged;
    else {
      list.push(merged);
      list.sort((a, b) => a.seq - b.seq);
    }
  }

  private touchRoom(roomId: string, message: Message, isNew: boolean): void {
    const room = this.rooms.find((r) => r.id === roomId);
    if (!room) return;
    if (isNew || room.last_message?.id === message.id) room.last_message = message;
    if (isNew) this.rooms = [room, ...this.rooms.filter((r) => r !== room)];
    this.notify('rooms');
  }

  private rememberMine(message: Message): void {
    const mine = message.reactions.filter((r) => r.me).map((r) => r.emoji);
    if (mine.length) this.mine.set(message.id, new Set(mine));
    if (message.acknowledgements.me) this.acknowledgedByMe.add(message.id);
  }

  /** Loads (once, or again with `force`) who acknowledged a message; re-renders when it arrives. */
  async loadAcknowledgements(roomId: string, messageId: string, force = false): Promise<void> {
    if (this.loadingAcknowledgements.has(messageId) || (!force && this.acknowledgementLists.has(messageId))) return;
    this.loadingAcknowledgements.add(messageId);
    try {
      this.acknowledgementLists.set(messageId, await this.client.acknowledgements(roomId, messageId));
      this.notify('messages');
    } catch {
      // Shown without names; the next event about the message tries again.
    } finally {
      this.loadingAcknowledgements.delete(messageId);
    }
  }

  async acknowledge(roomId: string, message: Message): Promise<void> {
    const acknowledged = await this.client.acknowledge(roomId, message.id);
    this.acknowledgedByMe.add(message.id);
    this.upsertAnywhere(roomId, acknowledged);
    await this.loadAcknowledgements(roomId, message.id, true);
    this.notify('messages');
  }

  // --- actions ---

  send(
    roomId: string,
    body: string,
    extra: { reply_to?: string; mentions?: string[]; attachment_ids?: string[]; thread_root_id?: string } = {},
  ): OutboxEntry {
    return this.client.send(roomId, { body, ...extra });
  }

  /** The outbox entries not yet shown as messages: of the room's top level, or of one thread. */
  pendingFor(roomId: string, threadRootId: string | null = null): readonly OutboxEntry[] {
    const shown = threadRootId ? this.threads.get(threadRootId) : this.messages.get(roomId);
    const delivered = new Set((shown ?? []).map((m) => m.client_msg_id));
    return this.client
      .outbox()
      .filter(
        (e) =>
          e.room_id === roomId &&
          (e.draft.thread_root_id ?? null) === threadRootId &&
          !(e.state === 'sent' && delivered.has(e.client_msg_id)),
      );
  }

  async toggleReaction(roomId: string, message: Message, emoji: string): Promise<void> {
    const on = !(this.mine.get(message.id)?.has(emoji) ?? false);
    const ack = await this.client.react(roomId, message.id, emoji, on);
    const set = this.mine.get(message.id) ?? new Set<string>();
    if (on) set.add(emoji);
    else set.delete(emoji);
    this.mine.set(message.id, set);
    this.upsertAnywhere(roomId, ack.message as Message);
    this.notify('messages');
    this.notify('thread');
  }

  /** An answer about a message (a reaction, an acknowledgement): in its thread or in the room. */
  private upsertAnywhere(roomId: string, message: Message): void {
    const replies = message.thread_root_id ? this.threads.get(message.thread_root_id) : undefined;
    if (replies) this.upsertInto(replies, message);
    else if (!message.thread_root_id) this.upsert(roomId, message);
  }

  search(query: string, roomId?: string): Promise<SearchPage> {
    const params = new URLSearchParams({ q: query, limit: '30' });
    if (roomId) params.set('room_id', roomId);
    return this.client.api<SearchPage>('GET', `/v1/search/messages?${params}`);
  }

  /** Attachments need the bearer token, so they are fetched and shown from object URLs. */
  async attachmentUrl(url: string): Promise<string> {
    const response = await fetch(url, { headers: { authorization: `Bearer ${this.token}` } });
    if (!response.ok) throw new Error(`attachment: HTTP ${response.status}`);
    return URL.createObjectURL(await response.blob());
  }

  async createRoom(body: Record<string, unknown>): Promise<Room> {
    const room = await this.client.api<Room>('POST', '/v1/rooms', body);
    await this.refreshRooms();
    return room;
  }

  async updateMembership(roomId: string, settings: Record<string, unknown>): Promise<void> {
    await this.client.api('PATCH', `/v1/rooms/${roomId}/membership`, settings);
    await this.refreshRooms();
  }

  // --- group management (REST; the rooms service decides who may do what) ---

  async loadMembers(roomId: string): Promise<Member[]> {
    const page = await this.client.api<{ items: Member[] }>('GET', `/v1/rooms/${roomId}/members?limit=1000`);
    this.members.set(roomId, page.items);
    this.notify('messages');
    return page.items;
  }

  async renameRoom(roomId: string, title: string): Promise<void> {
    await this.client.api('PATCH', `/v1/rooms/${roomId}`, { title });
    await this.refreshRooms();
  }

  async addMembers(roomId: string, memberIds: string[]): Promise<void> {
    await this.client.api('POST', `/v1/rooms/${roomId}/members`, { member_ids: memberIds });
    await Promise.all([this.loadMembers(roomId), this.refreshRooms()]);
  }

  async changeRole(roomId: string, userId: string, role: Member['role']): Promise<void> {
    await this.client.api('PATCH', `/v1/rooms/${roomId}/members/${encodeURIComponent(userId)}`, { role });
    await Promise.all([this.loadMembers(roomId), this.refreshRooms()]);
  }

  async removeMember(roomId: string, userId: string): Promise<void> {
    await this.client.api('DELETE', `/v1/rooms/${roomId}/members/${encodeURIComponent(userId)}`);
    if (userId === this.me) {
      this.rooms = this.rooms.filter((r) => r.id !== roomId);
      this.messages.delete(roomId);
      if (this.activeRoomId === roomId) await this.open(null);
      this.notify('rooms');
      return;
    }
    await Promise.all([this.loadMembers(roomId), this.refreshRooms()]);
  }

  // --- blocks (DESIGN 10.3) ---

  private async loadBlocks(): Promise<void> {
    const page = await this.client.blocks().catch(() => ({ items: [] }));
    for (const block of page.items) this.blocked.add(block.user_id);
  }

  async block(userId: string): Promise<void> {
    await this.client.block(userId);
    this.blocked.add(userId);
    this.notify('messages');
  }

  async unblock(userId: string): Promise<void> {
    await this.client.unblock(userId);
    this.blocked.delete(userId);
    this.notify('messages');
  }

  typingNames(roomId: string): string[] {
    const now = Date.now();
    return [...(this.typing.get(roomId) ?? new Map()).values()].filter((t) => t.until > now).map((t) => t.name);
  }
}

const outboxKey = (token: string) => `chat.outbox.${tokenSubject(token)}`;

/** The user id inside a token, to keep one outbox per user on a shared browser. */
function tokenSubject(token: string): string {
  return tokenPayload(token).sub ?? 'anonymous';
}

/** The token's claims, read without checking (the server checks; this only shapes the page). */
function tokenPayload(token: string): { sub?: string; roles?: string[] } {
  try {
    return JSON.parse(atob((token.split('.')[1] ?? '').replace(/-/g, '+').replace(/_/g, '/'))) as { sub?: string; roles?: string[] };
  } catch {
    return {};
  }
}
