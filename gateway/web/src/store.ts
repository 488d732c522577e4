import type { Member, Message, Room } from '@chat/shared';
import { ChatClient, type ConnectionStatus, type Frame, type OutboxEntry, storageOutbox } from '@chat/shared/sdk';

export interface WebConfig {
  ws_url: string;
  http_url: string;
  attachment_max_bytes: number;
  dev_tokens: boolean;
}

type Change = 'rooms' | 'messages' | 'room' | 'status' | 'typing';

/**
 * The chatbox's state and actions, on top of the SDK. Views read the state and re-render on the
 * change they are told about; every server write goes through the SDK (socket) or its REST helper.
 */
export class ChatStore {
  readonly client: ChatClient;
  rooms: Room[] = [];
  activeRoomId: string | null = null;
  readonly messages = new Map<string, Message[]>();
  readonly hasOlder = new Map<string, boolean>();
  readonly members = new Map<string, Member[]>();
  /** Members with an open socket, per room (from subscribe acks and presence events). */
  readonly online = new Map<string, Set<string>>();
  readonly typing = new Map<string, Map<string, { name: string; until: number }>>();
  readonly unread = new Map<string, number>();
  /** My own reactions: events carry no `me`, so they are followed from reaction.updated. */
  readonly mine = new Map<string, Set<string>>();
  status: ConnectionStatus = 'idle';
  private listeners = new Set<(change: Change) => void>();

  constructor(
    readonly config: WebConfig,
    readonly token: string,
  ) {
    this.client = new ChatClient({
      url: config.ws_url,
      httpUrl: config.http_url || location.origin,
      token,
      outbox: storageOutbox(localStorage, `chat.outbox.${tokenSubject(token)}`),
    });
    this.client.on('status', (status) => {
      this.status = status;
      this.notify('status');
    });
    this.client.on('event', (frame) => this.apply(frame));
    this.client.on('outbox', () => this.notify('messages'));
    this.client.on('resync', (roomId) => void this.reloadHistory(roomId));
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

  private notify(change: Change): void {
    for (const listener of this.listeners) listener(change);
  }

  async start(): Promise<void> {
    await this.client.connect();
    await this.refreshRooms();
    // Rooms created by others reach us with the next refresh; the socket has no per-user feed.
    setInterval(() => void this.refreshRooms(), 15_000);
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') void this.refreshRooms().then(() => this.markActiveRead());
    });
  }

  async refreshRooms(): Promise<void> {
    const page = await this.client.listRooms('?limit=100');
    this.rooms = page.items;
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
    this.notify('room');
    if (!roomId) return;
    if (!this.messages.has(roomId)) await this.reloadHistory(roomId);
    this.client.api<{ items: Member[] }>('GET', `/v1/rooms/${roomId}/members?limit=1000`).then(
      (page) => {
        this.members.set(roomId, page.items);
        this.notify('messages');
      },
      () => undefined,
    );
    await this.markActiveRead();
  }

  async reloadHistory(roomId: string): Promise<void> {
    const page = await this.client.history(roomId);
    this.messages.set(roomId, page.items);
    this.hasOlder.set(roomId, page.next_cursor !== null);
    for (const message of page.items) this.rememberMine(message);
    this.notify('messages');
  }

  /** Infinite scroll: the page before the oldest loaded message. */
  async loadOlder(roomId: string): Promise<boolean> {
    const loaded = this.messages.get(roomId) ?? [];
    const oldest = loaded[0];
    if (!oldest || !this.hasOlder.get(roomId)) return false;
    const page = await this.client.history(roomId, oldest.seq);
    for (const message of page.items) this.rememberMine(message);
    this.messages.set(roomId, [...page.items, ...loaded]);
    this.hasOlder.set(roomId, page.next_cursor !== null);
    this.notify('messages');
    return true;
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
      case 'reaction.updated': {
        const message = frame.message as Message;
        this.upsert(roomId, message);
        if (frame.type === 'reaction.updated' && frame.user_id === this.me) {
          const set = this.mine.get(message.id) ?? new Set<string>();
          if (frame.action === 'added') set.add(String(frame.emoji));
          else set.delete(String(frame.emoji));
          this.mine.set(message.id, set);
        }
        this.touchRoom(roomId, message, frame.type === 'message.created');
        if (frame.type === 'message.created') {
          if (this.typing.get(roomId)?.delete(message.sender_id)) this.notify('typing');
          if (roomId === this.activeRoomId && message.sender_id !== this.me) void this.markActiveRead();
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
        return;
      case 'member.removed':
        if (frame.user_id === this.me) {
          this.rooms = this.rooms.filter((r) => r.id !== roomId);
          if (this.activeRoomId === roomId) void this.open(null);
          this.notify('rooms');
        } else void this.refreshRooms();
        return;
    }
  }

  private upsert(roomId: string, message: Message): void {
    const list = this.messages.get(roomId);
    if (!list) return;
    const index = list.findIndex((m) => m.id === message.id);
    const merged = {
      ...message,
      reactions: message.reactions.map((r) => ({ ...r, me: this.mine.get(message.id)?.has(r.emoji) ?? false })),
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
  }

  // --- actions ---

  send(roomId: string, body: string, extra: { reply_to?: string; mentions?: string[]; attachment_ids?: string[] } = {}): OutboxEntry {
    return this.client.send(roomId, { body, ...extra });
  }

  pendingFor(roomId: string): readonly OutboxEntry[] {
    const delivered = new Set((this.messages.get(roomId) ?? []).map((m) => m.client_msg_id));
    return this.client.outbox().filter((e) => e.room_id === roomId && !(e.state === 'sent' && delivered.has(e.client_msg_id)));
  }

  async toggleReaction(roomId: string, message: Message, emoji: string): Promise<void> {
    const on = !(this.mine.get(message.id)?.has(emoji) ?? false);
    const ack = await this.client.react(roomId, message.id, emoji, on);
    const set = this.mine.get(message.id) ?? new Set<string>();
    if (on) set.add(emoji);
    else set.delete(emoji);
    this.mine.set(message.id, set);
    this.upsert(roomId, ack.message as Message);
    this.notify('messages');
  }

  async upload(roomId: string, file: File): Promise<string> {
    const form = new FormData();
    form.append('file', file, file.name);
    const attachment = await this.client.api<{ id: string }>('POST', `/v1/rooms/${roomId}/attachments`, undefined, { raw: form });
    return attachment.id;
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

  typingNames(roomId: string): string[] {
    const now = Date.now();
    return [...(this.typing.get(roomId) ?? new Map()).values()].filter((t) => t.until > now).map((t) => t.name);
  }
}

/** The user id inside a token, to keep one outbox per user on a shared browser. */
function tokenSubject(token: string): string {
  try {
    const payload = JSON.parse(atob((token.split('.')[1] ?? '').replace(/-/g, '+').replace(/_/g, '/'))) as { sub?: string };
    return payload.sub ?? 'anonymous';
  } catch {
    return 'anonymous';
  }
}
