import type { Message, SendMessageBody } from '../contracts/message.js';
import { ChatRequestError, type OutboxEntry, type OutboxStorage } from './types.js';

/** What the outbox needs from the rest of the client. */
export interface OutboxPort {
  isOpen(): boolean;
  request(frame: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** How long to wait before the next attempt after `attempts` tries. */
  retryDelay(attempts: number): number;
  /** An entry changed state (already stored). */
  changed(entry: OutboxEntry): void;
  newId(): string;
}

const WAIT_AND_RETRY = new Set(['rate_limited', 'timeout', 'unavailable', 'internal']);

/**
 * Sends that survive reloads: each entry is stored before it is sent, retried with its
 * `client_msg_id` (so the server deduplicates) until acknowledged, or marked failed on a permanent
 * error. pending → sent | failed; failed → pending on retry.
 */
export class Outbox {
  private entries: OutboxEntry[];
  private flushing = false;

  constructor(
    private readonly storage: OutboxStorage,
    private readonly port: OutboxPort,
  ) {
    this.entries = storage.load();
  }

  all(): readonly OutboxEntry[] {
    return this.entries;
  }

  add(roomId: string, draft: Omit<SendMessageBody, 'client_msg_id'>): OutboxEntry {
    const entry: OutboxEntry = {
      client_msg_id: this.port.newId(),
      room_id: roomId,
      draft,
      state: 'pending',
      attempts: 0,
      created_at: new Date().toISOString(),
    };
    this.entries.push(entry);
    this.save(entry);
    void this.flush();
    return entry;
  }

  forget(clientMsgId: string): void {
    this.entries = this.entries.filter((e) => e.client_msg_id !== clientMsgId);
    this.storage.save(this.entries);
  }

  retry(clientMsgId: string): void {
    const entry = this.entries.find((e) => e.client_msg_id === clientMsgId);
    if (entry?.state !== 'failed') return;
    entry.state = 'pending';
    delete entry.error;
    this.save(entry);
    void this.flush();
  }

  /** Sends pending entries while the connection is open. */
  async flush(): Promise<void> {
    if (this.flushing || !this.port.isOpen()) return;
    this.flushing = true;
    try {
      // In creation order, one at a time: a room's messages keep the order they were written in.
      for (const entry of this.entries) {
        if (entry.state !== 'pending') continue;
        if (!this.port.isOpen()) return;
        const stop = await this.deliver(entry);
        if (stop) return;
      }
    } finally {
      this.flushing = false;
    }
  }

  /** One attempt; true when flushing should pause (disconnected or asked to wait). */
  private async deliver(entry: OutboxEntry): Promise<boolean> {
    entry.attempts++;
    try {
      const ack = await this.port.request({
        type: 'message.send',
        room_id: entry.room_id,
        client_msg_id: entry.client_msg_id,
        ...entry.draft,
      });
      entry.state = 'sent';
      entry.message = ack.message as Message;
      this.save(entry);
      return false;
    } catch (error) {
      const failure = error instanceof ChatRequestError ? error : new ChatRequestError('internal', String(error));
      entry.error = { code: failure.code, message: failure.message };
      if (!failure.transient) {
        entry.state = 'failed';
        this.save(entry);
        return false;
      }
      this.save(entry);
      // `disconnected` waits for the next hello, which flushes; the others retry on a timer.
      if (WAIT_AND_RETRY.has(failure.code)) {
        setTimeout(() => void this.flush(), failure.retryAfterMs ?? this.port.retryDelay(entry.attempts));
      }
      return true;
    }
  }

  private save(entry: OutboxEntry): void {
    this.storage.save(this.entries);
    this.port.changed({ ...entry });
  }
}
