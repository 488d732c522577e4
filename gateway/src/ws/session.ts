import type { ChatError } from '@chat/shared';
import type { Actor } from '@chat/shared/auth';
import type { WebSocket } from '../uws.js';
import type { RefusalState } from './refusal-policy.js';
import { socketFault } from './socket-faults.js';

/** Per-socket state, held in uWS user data. */
export interface Session {
  actor: Actor | undefined;
  /** Set when the upgrade carried no valid token: the socket is closed with 4001 on open. */
  authError: ChatError | undefined;
  /** The earlier system's URL names one room to open subscribed to. */
  initialRoomId: string | undefined;
  /** Rooms subscribed to; a short array, since a socket holds a few rooms and there are many sockets. */
  rooms: string[];
  /** Subscribes in progress, so an unsubscribe or close can cancel them (allocated when needed). */
  joining: string[] | undefined;
  /** What this socket was told by `rate_limited` answers, for the 4008 rule (allocated when needed). */
  refusals: RefusalState | undefined;
  /** Request frames received and not yet answered. */
  inFlight: number;
  /** The token's `exp` in ms since the epoch: the socket is closed with 4001 then. */
  expiresAt: number;
  /** Set first thing in the close handler: uWS frees the socket once that handler returns. */
  closed: boolean;
}

/** Removes `item` from a small array in place; true when it was there. */
export function removeItem<T>(items: T[] | undefined, item: T): boolean {
  const at = items?.indexOf(item) ?? -1;
  if (at === -1 || !items) return false;
  items.splice(at, 1);
  return true;
}

/** `items` without `item`, as a new array, or undefined when nothing is left (per-socket lists made when needed). */
export function withoutItem<T>(items: T[] | undefined, item: T): T[] | undefined {
  if (!items?.includes(item)) return items;
  return items.length === 1 ? undefined : items.filter((other) => other !== item);
}

export type ChatSocket = WebSocket<Session>;

let countFrameOut: () => void = () => undefined;

/** Lets the process count frames written to single sockets (fan-out is counted once per gateway). */
export function observeFramesOut(count: () => void): void {
  countFrameOut = count;
}

/** Sends a text frame unless the socket closed while we awaited something. */
export function sendText(ws: ChatSocket, text: string | Uint8Array): void {
  if (ws.getUserData().closed) return;
  try {
    ws.send(text, false);
  } catch (error) {
    socketFault('write_after_close', error);
    return;
  }
  countFrameOut();
}

export function sendJson(ws: ChatSocket, frame: unknown): void {
  sendText(ws, JSON.stringify(frame));
}
