import { type HistoryVisibility, messageSeqOfEvent, needsOwnCopy, REPLY_TO_SEQ_HEADER, visibleEvent } from '@chat/shared';
import type { Logger } from '@chat/shared/logging';
import { decodeRoomSignal, fromNatsHeaders, type ResponseOf, subjects } from '@chat/shared/nats';
import type { roomsRpc } from '@chat/shared/rpc';
import { extractTraceContext, SpanKind, tracer } from '@chat/shared/telemetry';
import type { Msg, NatsConnection, Subscription } from 'nats';
import type { TemplatedApp } from '../uws.js';
import { type ChatSocket, removeItem, withoutItem } from './session.js';

/** A live event kept for a socket whose subscribe is still replaying. */
export interface BufferedEvent {
  seq: number;
  data: Uint8Array;
  /** The seq of the message its message replies to, for late joiners' copies (REPLY_TO_SEQ_HEADER). */
  replyToSeq?: number | undefined;
}

/** An event read back from the room's log, with what its live copy carries in headers. */
export interface LoggedEvent {
  text: string;
  replyToSeq?: number | undefined;
}

/** Collects live events for one socket between its NATS join and its uWS topic subscribe. */
export class PendingSubscriber {
  readonly buffer: BufferedEvent[] = [];
  /** Set when the subscribing user is removed from the room before the subscribe attaches. */
  removed = false;

  constructor(readonly userId: string) {}
}

interface SeqWaiter {
  seq: number;
  resolve(): void;
}

/** A live event that arrived ahead of its room's next seq, held until the gap is filled. */
interface HeldEvent {
  data: Uint8Array;
  msg: Msg | undefined;
}

/**
 * One NATS subscription for one room on this gateway, shared by every local socket in the room.
 * Persisted events are fanned out with uWS's native publish, once per gateway, in seq order
 * without gaps: events are published by whichever messages replica committed them (or by the
 * relay after a crash), so one may arrive before a lower seq; it is held until the lower ones
 * come, or read from the log when they have not come within the hold time. A re-published event
 * is dropped by its seq.
 */
export class RoomChannel {
  refs = 0;
  /** Highest persisted seq fanned out in order; set from the log when the channel opens. */
  lastSeq = 0;
  /** False until `lastSeq` is known: events received meanwhile are held. */
  ordered = false;
  /**
   * Events ahead of a gap, subscribes in progress, late joiners and seq waiters are rare: each
   * collection is made when first needed and dropped when empty, since even an empty Map costs
   * more than a room's share of a socket (issue 13's memory per socket).
   */
  held: Map<number, HeldEvent> | undefined;
  fillTimer: NodeJS.Timeout | undefined;
  pending: Set<PendingSubscriber> | undefined;
  /**
   * Local sockets subscribed to the room: for typing (not to the typist) and evictions. A room
   * holds a few sockets on most gateways: an array of the exact length until it outgrows
   * SOCKET_ARRAY_MAX, then a Set, so a large room's sockets still leave in constant time each.
   */
  private sockets: readonly ChatSocket[] | Set<ChatSocket> = NO_SOCKETS;
  private waiters: SeqWaiter[] | undefined;
  subscription: Subscription | undefined;
  /** Resolves once the NATS server has the subscription (one round trip per channel, not per socket); undefined once it has. */
  ready: Promise<void> | undefined;

  /**
   * Sockets of late joiners in a room of joined history, with the seq their view starts after.
   * They are not on the uWS topic: each event reaches them directly, or as `event.hidden` when it
   * concerns a message from before they joined.
   */
  restricted: Map<ChatSocket, number> | undefined;
  /** From the member list and room.updated signals; until known, subscribes ask the services. */
  historyVisibility: HistoryVisibility | undefined;

  /**
   * Member ids from the rooms service, kept current by member signals; null: too large to list.
   * The list as it was read (at most ROOM_MEMBER_LIST_MAX ids): a Set would cost more than the
   * room's sockets, and a search of it is one per subscribe.
   */
  private memberList: readonly string[] | null | undefined;
  private memberListAt = 0;
  private memberListLoading: Promise<readonly string[] | null> | undefined;
  /** Counts member signals, so a list read while one arrived is read again. */
  private membershipChanges = 0;

  constructor(
    readonly roomId: string,
    readonly topic: string,
  ) {}

  /**
   * The room's member ids, loaded once per channel (not per subscriber) and refreshed after
   * `source.ttlMs`, so a missed signal cannot keep a stale list for long. Null when the room is
   * too large to list or the list cannot be read now (callers then ask the services).
   */
  memberIds(source: MemberListSource): Promise<readonly string[] | null> {
    if (this.memberList !== undefined && Date.now() - this.memberListAt < source.ttlMs) return Promise.resolve(this.memberList);
    this.memberListLoading ??= this.loadMemberIds(source).finally(() => {
      this.memberListLoading = undefined;
    });
    return this.memberListLoading;
  }

  private async loadMemberIds(source: MemberListSource): Promise<readonly string[] | null> {
    for (let attempt = 1; ; attempt++) {
      const changesBefore = this.membershipChanges;
      let ids: string[] | null;
      try {
        const list = await source.load(this.roomId, source.maxMembers);
        ids = list.user_ids;
        this.historyVisibility = list.history_visibility;
      } catch (error) {
        source.onError(error, this.roomId);
        return null;
      }
      // A member signal during the read may or may not be in it: read again (a few times at most).
      if (changesBefore !== this.membershipChanges && attempt < 3) continue;
      this.memberList = ids;
      this.memberListAt = changesBefore === this.membershipChanges ? Date.now() : 0;
      return this.memberList;
    }
  }

  /** A member signal; a list that grows past `maxMembers` becomes null (too large to list), as a fresh read would say. */
  noteMembership(change: 'added' | 'removed', userId: string, maxMembers: number): void {
    this.membershipChanges++;
    const list = this.memberList;
    if (!list) return;
    if (change === 'added' && !list.includes(userId)) this.memberList = list.length < maxMembers ? list.concat(userId) : null;
    if (change === 'removed' && list.includes(userId)) this.memberList = list.filter((id) => id !== userId);
  }

  addSocket(ws: ChatSocket): void {
    const sockets = this.sockets;
    if (sockets instanceof Set) sockets.add(ws);
    else this.sockets = sockets.length < SOCKET_ARRAY_MAX ? sockets.concat(ws) : new Set([...sockets, ws]);
  }

  removeSocket(ws: ChatSocket): void {
    const sockets = this.sockets;
    if (sockets instanceof Set) sockets.delete(ws);
    else if (sockets.includes(ws)) this.sockets = sockets.length === 1 ? NO_SOCKETS : sockets.filter((other) => other !== ws);
  }

  /** The room's local sockets of `userId` (a copy: evicting them changes the room's list). */
  socketsOf(userId: string): ChatSocket[] {
    const found: ChatSocket[] = [];
    for (const ws of this.sockets) if (ws.getUserData().actor?.user_id === userId) found.push(ws);
    return found;
  }

  /** Every local socket in the room except those of `userId`. */
  *socketsExcept(userId: string): Iterable<ChatSocket> {
    for (const ws of this.sockets) if (ws.getUserData().actor?.user_id !== userId) yield ws;
  }

  /** Resolves once an event with at least `seq` has passed through, or after `timeoutMs`. */
  waitForSeq(seq: number, timeoutMs: number): Promise<boolean> {
    if (this.lastSeq >= seq) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter: SeqWaiter = {
        seq,
        resolve: () => {
          clearTimeout(timer);
          resolve(true);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = withoutItem(this.waiters, waiter);
        resolve(false);
      }, timeoutMs);
      this.waiters = [...(this.waiters ?? []), waiter];
    });
  }

  notePersisted(seq: number): void {
    this.lastSeq = seq;
    if (!this.waiters) return;
    const ready = this.waiters.filter((w) => w.seq <= seq);
    this.waiters = nonEmpty(this.waiters.filter((w) => w.seq > seq));
    for (const w of ready) w.resolve();
  }

  addPending(pending: PendingSubscriber): void {
    this.pending ??= new Set();
    this.pending.add(pending);
  }

  removePending(pending: PendingSubscriber): void {
    this.pending?.delete(pending);
    if (this.pending?.size === 0) this.pending = undefined;
  }

  /** Stops serving a late joiner directly; false when the socket was not one. */
  removeRestricted(ws: ChatSocket): boolean {
    const removed = this.restricted?.delete(ws) ?? false;
    if (this.restricted?.size === 0) this.restricted = undefined;
    return removed;
  }
}

const NO_SOCKETS: readonly ChatSocket[] = [];
/** Sockets of a room held in an array; past this, in a Set. */
const SOCKET_ARRAY_MAX = 32;

/** The array, or undefined for none: an empty array left behind still costs its header. */
function nonEmpty<T>(items: T[] | undefined): T[] | undefined {
  return items && items.length > 0 ? items : undefined;
}

const SEQ_KEY = '"seq":';

/** Our own encoder writes `type`, `room_id`, then `seq` first, so the event seq is the first `"seq":`. */
export function readEventSeq(data: Uint8Array): number | undefined {
  const head = Buffer.from(data.buffer, data.byteOffset, Math.min(data.byteLength, 160)).toString('latin1');
  const at = head.indexOf(SEQ_KEY);
  if (at === -1) return undefined;
  const match = /^\d+/.exec(head.slice(at + SEQ_KEY.length));
  return match ? Number(match[0]) : undefined;
}

/** Where room channels read member lists from (the rooms service), and how long they trust one. */
export interface MemberListSource {
  /** The room's member ids, or null when it has more than `maxMembers`. */
  load(roomId: string, maxMembers: number): Promise<ResponseOf<typeof roomsRpc.roomMembers>>;
  /** Lists of larger rooms are not kept (ROOM_MEMBER_LIST_MAX). */
  maxMembers: number;
  ttlMs: number;
  onError(error: unknown, roomId: string): void;
}

export interface RoomHubMetrics {
  roomChannels(delta: number): void;
  socketSubscriptions(delta: number): void;
  eventFannedOut(): void;
  duplicateDropped(): void;
  /** Events fanned out from the log because they had not arrived live within the hold time. */
  filledFromLog?(count: number): void;
}

/** The room's log at the messages service: where a channel starts, and what fills a gap. */
export interface RoomLogSource {
  lastSeq(roomId: string): Promise<number>;
  eventsAfter(roomId: string, afterSeq: number, limit: number): Promise<LoggedEvent[]>;
  /** How long an event ahead of a gap is held before the gap is read from the log. */
  holdMs: number;
}

/** Most events one gap fill reads. */
const FILL_LIMIT = 1000;

export class RoomHub {
  private readonly channels = new Map<string, RoomChannel>();
  private liveCheck: Promise<void> | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly app: TemplatedApp,
    private readonly namespace: string,
    private readonly logger: Logger,
    private readonly metrics: RoomHubMetrics,
    readonly memberLists: MemberListSource,
    private readonly log: RoomLogSource,
  ) {}

  static topic(roomId: string): string {
    return `r:${roomId}`;
  }

  get size(): number {
    return this.channels.size;
  }

  /** Takes a reference on the room's channel, opening its NATS subscription when it is the first. */
  async join(roomId: string): Promise<RoomChannel> {
    let channel = this.channels.get(roomId);
    if (!channel) {
      const created = new RoomChannel(roomId, RoomHub.topic(roomId));
      channel = created;
      this.channels.set(roomId, created);
      created.subscription = this.nc.subscribe(subjects.roomAll(this.namespace, roomId), {
        callback: (error, msg) => {
          if (error) this.logger.warn({ err: error, room_id: roomId }, 'room subscription error');
          else this.deliver(created, msg);
        },
      });
      // The subscription must be live at the server before anyone reads what they missed, and
      // before the channel's start is read: every event after it then comes live (or from a fill).
      created.ready = this.subscriptionsLive().then(async () => {
        this.startOrdering(created, await this.log.lastSeq(roomId));
        created.ready = undefined;
      });
      this.metrics.roomChannels(1);
    }
    channel.refs++;
    try {
      await channel.ready;
    } catch (error) {
      // The channel goes with its last reference, so the next subscribe opens a fresh one.
      this.leave(roomId);
      throw error;
    }
    return channel;
  }

  /**
   * Resolves once the server has every subscription made so far. One PING at the end of the turn
   * of the loop answers for all the channels opened in it (a connect burst opens thousands), where
   * a flush per channel wrote a PING each.
   */
  private subscriptionsLive(): Promise<void> {
    this.liveCheck ??= new Promise<void>((resolve, reject) => {
      setImmediate(() => {
        this.liveCheck = undefined;
        this.nc.flush().then(resolve, reject);
      });
    });
    return this.liveCheck;
  }

  private startOrdering(channel: RoomChannel, lastSeq: number): void {
    channel.lastSeq = Math.max(channel.lastSeq, lastSeq);
    channel.ordered = true;
    if (channel.held) for (const seq of channel.held.keys()) if (seq <= channel.lastSeq) channel.held.delete(seq);
    this.drainHeld(channel);
  }

  /** Fans out held events that are next in line; arms the gap fill if some are still held. */
  private drainHeld(channel: RoomChannel): void {
    const held = channel.held;
    for (let next = held?.get(channel.lastSeq + 1); held && next; next = held.get(channel.lastSeq + 1)) {
      held.delete(channel.lastSeq + 1);
      this.fanOutEvent(channel, channel.lastSeq + 1, next.data, next.msg);
    }
    if (!held || held.size === 0) {
      channel.held = undefined;
      clearTimeout(channel.fillTimer);
      channel.fillTimer = undefined;
    } else {
      channel.fillTimer ??= setTimeout(() => void this.fillGap(channel), this.log.holdMs);
    }
  }

  /** Reads what is missing before the held events from the log (it holds every committed event). */
  private async fillGap(channel: RoomChannel): Promise<void> {
    const held = channel.held;
    if (!held || held.size === 0) {
      channel.fillTimer = undefined;
      return;
    }
    // A loop, not Math.max(...keys): a long-held gap in a busy room can hold more events than a call takes arguments.
    let upTo = 0;
    for (const seq of held.keys()) if (seq > upTo) upTo = seq;
    const from = channel.lastSeq;
    try {
      // Up to the highest held event, which itself is here already.
      const events = await this.log.eventsAfter(channel.roomId, from, Math.min(FILL_LIMIT, upTo - from - 1));
      let filled = 0;
      for (const { text, replyToSeq } of events) {
        const data = Buffer.from(text);
        const seq = readEventSeq(data);
        if (seq !== channel.lastSeq + 1) continue; // arrived live meanwhile, or beyond what is missing
        held.delete(seq);
        this.fanOutEvent(channel, seq, data, undefined, replyToSeq);
        filled++;
      }
      if (filled > 0) this.metrics.filledFromLog?.(filled);
    } catch (error) {
      this.logger.warn({ err: error, room_id: channel.roomId, after_seq: from }, 'room log read for a gap failed; retrying');
    }
    channel.fillTimer = undefined;
    if (this.channels.get(channel.roomId) === channel) this.drainHeld(channel);
  }

  /**
   * Subscribes a socket to the room's topic; its channel reference was taken by `join`. A late
   * joiner of a room with joined history (`visibleFromSeq` > 0) is served directly instead.
   */
  attach(ws: ChatSocket, roomId: string, visibleFromSeq = 0): void {
    const channel = this.channels.get(roomId);
    const session = ws.getUserData();
    // A subscribe holds a channel reference from join to attach; a missing channel is a bug, never silent.
    if (!channel || !session.actor) throw new Error(`room channel ${roomId} vanished during subscribe`);
    if (visibleFromSeq > 0) {
      channel.restricted ??= new Map();
      channel.restricted.set(ws, visibleFromSeq);
    } else ws.subscribe(channel.topic);
    // The channel's copy of the id, shared by every socket of the room, not the frame's own; a
    // new array of the exact length, where push (or a spread) leaves room for 16 more on every socket.
    session.rooms = session.rooms.concat(channel.roomId);
    channel.addSocket(ws);
    this.metrics.socketSubscriptions(1);
  }

  /** Unsubscribes a socket and gives back its channel reference. */
  detach(ws: ChatSocket, roomId: string): void {
    const session = ws.getUserData();
    session.joining = withoutItem(session.joining, roomId);
    if (!removeItem(session.rooms, roomId)) return;
    this.metrics.socketSubscriptions(-1);
    const channel = this.channels.get(roomId);
    // A late joiner leaves the channel's direct list even when its socket is closed (uWS forgets
    // its topics itself, not our list); only a topic subscriber of an open socket is unsubscribed.
    const wasRestricted = channel?.removeRestricted(ws) ?? false;
    if (!session.closed && !wasRestricted) ws.unsubscribe(RoomHub.topic(roomId));
    channel?.removeSocket(ws);
    this.leave(roomId);
  }

  leave(roomId: string): void {
    const channel = this.channels.get(roomId);
    if (!channel) return;
    channel.refs--;
    if (channel.refs > 0) return;
    clearTimeout(channel.fillTimer);
    channel.subscription?.unsubscribe();
    this.channels.delete(roomId);
    this.metrics.roomChannels(-1);
  }

  private deliver(channel: RoomChannel, msg: Msg): void {
    if (msg.subject.includes('.signal.')) {
      this.deliverSignal(channel, msg.data);
      return;
    }
    if (msg.subject.endsWith('.event')) {
      const seq = readEventSeq(msg.data);
      if (seq === undefined) {
        this.logger.warn({ subject: msg.subject }, 'room event without seq dropped');
        return;
      }
      if (seq <= channel.lastSeq || channel.held?.has(seq)) {
        this.metrics.duplicateDropped();
        return;
      }
      if (!channel.ordered || seq !== channel.lastSeq + 1) {
        channel.held ??= new Map();
        channel.held.set(seq, { data: msg.data, msg });
        if (channel.ordered) this.drainHeld(channel);
        return;
      }
      this.fanOutEvent(channel, seq, msg.data, msg);
      this.drainHeld(channel);
      return;
    }
    this.publish(channel, msg.data);
    this.metrics.eventFannedOut();
  }

  /** To every local socket of the room: the topic, and late joiners one by one. */
  private publish(channel: RoomChannel, data: Uint8Array): void {
    this.app.publish(channel.topic, data, false);
    if (channel.restricted) for (const ws of channel.restricted.keys()) if (!ws.getUserData().closed) ws.send(data, false);
  }

  /** One persisted event, next in seq order, to every local socket of the room (and to subscribes in progress). */
  private fanOutEvent(channel: RoomChannel, seq: number, data: Uint8Array, msg: Msg | undefined, logged?: number): void {
    // Only late joiners (and subscribes in progress, which may be theirs) need the header read.
    const replyToSeq = msg && (channel.restricted || channel.pending) ? replyToSeqHeader(msg) : logged;
    if (msg) {
      const span = tracer.startSpan(
        `process ${msg.subject}`,
        {
          kind: SpanKind.CONSUMER,
          attributes: {
            'messaging.system': 'nats',
            'messaging.destination.name': msg.subject,
            'messaging.operation.type': 'process',
            'chat.room_id': channel.roomId,
            'chat.seq': seq,
          },
        },
        extractTraceContext(fromNatsHeaders(msg.headers)),
      );
      this.publishPersisted(channel, seq, data, replyToSeq);
      span.end();
    } else {
      this.publishPersisted(channel, seq, data, replyToSeq);
    }
  }

  private publishPersisted(channel: RoomChannel, seq: number, data: Uint8Array, replyToSeq: number | undefined): void {
    channel.notePersisted(seq);
    if (channel.pending) for (const pending of channel.pending) pending.buffer.push({ seq, data, replyToSeq });
    this.app.publish(channel.topic, data, false);
    if (channel.restricted) {
      const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString();
      const messageSeq = messageSeqOfEvent(text);
      for (const [ws, visibleFrom] of channel.restricted) {
        if (ws.getUserData().closed) continue;
        ws.send(needsOwnCopy(messageSeq, visibleFrom, replyToSeq) ? visibleEvent(text, visibleFrom, replyToSeq) : data, false);
      }
    }
    this.metrics.eventFannedOut();
  }

  private deliverSignal(channel: RoomChannel, data: Uint8Array): void {
    const signal = decodeRoomSignal(data);
    if (!signal) {
      this.logger.warn({ room_id: channel.roomId }, 'malformed room signal dropped');
      return;
    }
    if (signal.type === 'typing') {
      // Never back to the typist: sent per socket, which is fine for a throttled, small signal.
      for (const ws of channel.socketsExcept(signal.user_id)) if (!ws.getUserData().closed) ws.send(data, false);
      this.metrics.eventFannedOut();
      return;
    }
    if (signal.type === 'room.updated') channel.historyVisibility = signal.room.history_visibility;
    if (signal.type === 'member.added') channel.noteMembership('added', signal.user_id, this.memberLists.maxMembers);
    if (signal.type === 'member.removed') {
      channel.noteMembership('removed', signal.user_id, this.memberLists.maxMembers);
      if (channel.pending) for (const pending of channel.pending) if (pending.userId === signal.user_id) pending.removed = true;
      // A removed member's sockets stop receiving the room at once. uWS delivers topic messages
      // when the loop drains, after an unsubscribe in this tick, so they get this last one directly.
      for (const ws of channel.socketsOf(signal.user_id)) {
        if (!ws.getUserData().closed) ws.send(data, false);
        this.detach(ws, channel.roomId);
      }
    }
    this.publish(channel, data);
    this.metrics.eventFannedOut();
  }
}

/** The replied-to message's seq a room event carries in its headers (REPLY_TO_SEQ_HEADER), if any. */
function replyToSeqHeader(msg: Msg): number | undefined {
  const value = msg.headers?.get(REPLY_TO_SEQ_HEADER);
  return value ? Number(value) : undefined;
}
