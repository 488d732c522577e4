/**
 * When a socket that is refused with `rate_limited` is closed with 4008 (DESIGN 10.1).
 *
 * A burst (frames written before any answer could be read, e.g. an outbox flushed on reconnect)
 * is answered frame by frame and never closed. What closes a socket is ignoring the instruction:
 *
 * - The first refusal of a frame type tells the client to wait: the socket notes
 *   `waitUntil = time of that refusal + retry_after_ms` for that type.
 * - A later frame of that type that *arrives* at or after `waitUntil` and is refused again is a
 *   strike: the client was told when to come back, came back, and still sent more than its
 *   bucket holds. Frames arriving before `waitUntil` are the burst still in flight: no strike.
 * - More than `closeAfter` strikes within `windowMs` (10 s) close the socket with 4008.
 * - An instruction is forgotten once `windowMs` has passed since its `waitUntil` with no strike,
 *   so a client that behaved for a while starts afresh.
 *
 * A client that waits `retry_after_ms` and then sends one frame at a time (waiting for each
 * answer) collects a strike only when another of the user's sockets empties the shared bucket
 * in the same instant; it never comes near the threshold.
 */
export interface RefusalState {
  waitUntil: Map<string, number>;
  /** Times of recent strikes, oldest first (at most closeAfter + 1 kept). */
  strikes: number[];
}

export class RefusalPolicy {
  constructor(
    private readonly closeAfter: number,
    private readonly windowMs = 10_000,
  ) {}

  /**
   * Records a `rate_limited` answer to a frame of `kind` that arrived at `receivedAt`; true when
   * the socket must now be closed with 4008.
   */
  refused(state: RefusalState, kind: string, receivedAt: number, retryAfterMs: number, now: number): boolean {
    while (state.strikes.length > 0 && now - (state.strikes[0] as number) > this.windowMs) state.strikes.shift();
    const waitUntil = state.waitUntil.get(kind);
    // A hammering client keeps its instruction (and its strikes) for as long as it hammers.
    const stale = waitUntil !== undefined && now - waitUntil > this.windowMs && state.strikes.length === 0;
    if (waitUntil === undefined || stale) {
      state.waitUntil.set(kind, now + retryAfterMs);
      return false;
    }
    if (receivedAt < waitUntil) return false; // the burst still in flight
    state.strikes.push(now);
    if (state.strikes.length > this.closeAfter + 1) state.strikes.shift();
    return state.strikes.length > this.closeAfter;
  }
}

export function newRefusalState(): RefusalState {
  return { waitUntil: new Map(), strikes: [] };
}
