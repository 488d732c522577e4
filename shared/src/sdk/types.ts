import type { Message, SendMessageBody } from '../contracts/message.js';
import type { ErrorCode } from '../errors/index.js';

/** The part of the WebSocket API the client uses: the browser's, or `ws` in Node. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}
export type WebSocketFactory = (url: string) => WebSocketLike;

export type OutboxState = 'pending' | 'sent' | 'failed';

/** A message the user sent; it stays pending, and is retried, until the server acknowledges it. */
export interface OutboxEntry {
  client_msg_id: string;
  room_id: string;
  draft: Omit<SendMessageBody, 'client_msg_id'>;
  state: OutboxState;
  attempts: number;
  created_at: string;
  message?: Message;
  error?: { code: ErrorCode | 'timeout' | 'disconnected'; message: string };
}

/** Where the outbox survives reloads and restarts (localStorage in browsers, a file or database elsewhere). */
export interface OutboxStorage {
  load(): OutboxEntry[];
  save(entries: OutboxEntry[]): void;
}

export function memoryOutbox(): OutboxStorage {
  let entries: OutboxEntry[] = [];
  return { load: () => entries.map((e) => ({ ...e })), save: (next) => (entries = next.map((e) => ({ ...e }))) };
}

/** An outbox in the browser's localStorage (or any Storage). */
export function storageOutbox(
  storage: { getItem(key: string): string | null; setItem(key: string, value: string): void },
  key = 'chat.outbox',
): OutboxStorage {
  return {
    load: () => {
      try {
        return JSON.parse(storage.getItem(key) ?? '[]') as OutboxEntry[];
      } catch {
        return [];
      }
    },
    save: (entries) => storage.setItem(key, JSON.stringify(entries)),
  };
}

export type ConnectionStatus = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed' | 'unauthenticated';

/** A request the server refused (its error code), or one that got no answer in time (`timeout`). */
export class ChatRequestError extends Error {
  override readonly name = 'ChatRequestError';
  constructor(
    readonly code: ErrorCode | 'timeout' | 'disconnected',
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }

  /** Worth sending again unchanged: the server did not refuse it for good. */
  get transient(): boolean {
    return ['timeout', 'disconnected', 'unavailable', 'rate_limited', 'internal'].includes(this.code);
  }
}
