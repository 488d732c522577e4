/**
 * Faults on sockets (a write after close, a handler that threw, an aborted upgrade), counted and
 * logged by the process instead of ending it. Its own module, so the session and the writer both
 * report without importing each other.
 */
export type SocketFault = 'write_after_close' | 'handler_threw' | 'upgrade_aborted';

let reportFault: (reason: SocketFault, error: unknown) => void = () => undefined;

/** Lets the process count and log faults (the gateway's metrics and logger). */
export function observeSocketFaults(report: (reason: SocketFault, error: unknown) => void): void {
  reportFault = report;
}

export function socketFault(reason: SocketFault, error: unknown): void {
  try {
    reportFault(reason, error);
  } catch {
    // Reporting must never be what ends the process.
  }
}
