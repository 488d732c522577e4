/**
 * A background loop's doorbell. `ring()` cuts a `wait` short; a ring that comes while the loop is
 * busy stays `pending` until the loop takes it with `clear()` before its next look, so a wake-up
 * between a look and the idle after it is never lost.
 */
export class WakeSignal {
  private rung = false;
  private cutShort: (() => void) | undefined;

  get pending(): boolean {
    return this.rung;
  }

  ring(): void {
    this.rung = true;
    this.cutShort?.();
  }

  /** Takes the pending ring: call right before a look, so rings during it are kept. */
  clear(): void {
    this.rung = false;
  }

  /** Resolves after `ms` or at the next ring, whichever is first (a pending ring does not count). */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.cutShort = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.cutShort = done;
    });
  }
}
