import type { Logger } from '@chat/shared/logging';
import { subjects } from '@chat/shared/nats';
import type { Msg, NatsConnection, Subscription } from 'nats';
import type { TemplatedApp } from '../uws.js';

/** A live event kept for a socket whose subscribe is still replaying. */
export interface BufferedEvent {
  seq: number;
  data: Uint8Array;
}

/** Collects live events for one socket between its NATS join and its uWS topic subscribe. */
export class PendingSubscriber {
  readonly buffer: BufferedEvent[] = [];
}

interface SeqWaiter {
  seq: number;
  resolve(): void;
}

/**
 * One NATS subscription for one room on this gateway, shared by every local socket in the room.
 * Persisted events are fanned out with uWS's native publish, once per gateway, in seq order;
 * a re-published event (outbox retry) is dropped by its seq.
 */
export class RoomChannel {
  refs = 0;
  /** Highest persisted seq fanned out since this channel opened. */
  lastSeq = 0;
  readonly pending = new Set<PendingSubscriber>();
  private waiters: SeqWaiter[] = [];
  subscription: Subscription | undefined;

  constructor(
    readonly roomId: string,
    readonly topic: string,
  ) {}

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
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  notePersisted(seq: number): void {
    this.lastSeq = seq;
    if (this.waiters.length === 0) return;
    const ready = this.waiters.filter((w) => w.seq <= seq);
    this.waiters = this.waiters.filter((w) => w.seq > seq);
    for (const w of ready) w.resolve();
  }
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

export interface RoomHubMetrics {
  roomChannels(delta: number): void;
  eventFannedOut(): void;
  duplicateDropped(): void;
}

export class RoomHub {
  private readonly channels = new Map<string, RoomChannel>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly app: TemplatedApp,
    private readonly namespace: string,
    private readonly logger: Logger,
    private readonly metrics: RoomHubMetrics,
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
      this.metrics.roomChannels(1);
    }
    channel.refs++;
    // The subscription must be live at the server before the caller reads what it missed.
    await this.nc.flush();
    return channel;
  }

  leave(roomId: string): void {
    const channel = this.channels.get(roomId);
    if (!channel) return;
    channel.refs--;
    if (channel.refs > 0) return;
    channel.subscription?.unsubscribe();
    this.channels.delete(roomId);
    this.metrics.roomChannels(-1);
  }

  private deliver(channel: RoomChannel, msg: Msg): void {
    if (msg.subject.endsWith('.event')) {
      const seq = readEventSeq(msg.data);
      if (seq === undefined) {
        this.logger.warn({ subject: msg.subject }, 'room event without seq dropped');
        return;
      }
      if (seq <= channel.lastSeq) {
        this.metrics.duplicateDropped();
        return;
      }
      channel.notePersisted(seq);
      for (const pending of channel.pending) pending.buffer.push({ seq, data: msg.data });
    }
    this.app.publish(channel.topic, msg.data, false);
    this.metrics.eventFannedOut();
  }
}
