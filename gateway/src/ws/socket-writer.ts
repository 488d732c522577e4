import type { ChatSocket } from './session.js';
import { socketFault } from './socket-faults.js';

/**
 * The one way to touch a uWS socket that may have closed while we awaited something.
 *
 * uWS frees a socket once its close handler returns; any later call on it throws ("Invalid access
 * of closed uWS.WebSocket"), and a throw in a promise callback ends the process. The close handler
 * sets `session.closed` first, so checking it is enough in the normal case; the try/catch is the
 * second line, so a bug here is counted as a fault instead of taking every other user down.
 */
export function isOpen(ws: ChatSocket): boolean {
  return !ws.getUserData().closed;
}

/** Runs `write` corked on the socket unless it has closed; false when nothing could be written. */
export function writeCorked(ws: ChatSocket, write: () => void): boolean {
  if (ws.getUserData().closed) return false;
  try {
    ws.cork(write);
    return true;
  } catch (error) {
    socketFault('write_after_close', error);
    return false;
  }
}

/** Closes the socket with a close frame unless it has closed already. */
export function endSocket(ws: ChatSocket, code: number, reason: string): void {
  if (ws.getUserData().closed) return;
  try {
    ws.end(code, reason.slice(0, 120));
  } catch (error) {
    socketFault('write_after_close', error);
  }
}

/** Bytes queued in user space for the socket; 0 once it closed. */
export function bufferedAmount(ws: ChatSocket): number {
  if (ws.getUserData().closed) return 0;
  try {
    return ws.getBufferedAmount();
  } catch (error) {
    socketFault('write_after_close', error);
    return 0;
  }
}

/** Wraps a uWS callback so no exception from it reaches the process. */
export function guarded<A extends unknown[]>(handler: (...args: A) => void): (...args: A) => void {
  return (...args: A) => {
    try {
      handler(...args);
    } catch (error) {
      socketFault('handler_threw', error);
    }
  };
}
