import { describe, expect, it } from 'vitest';
import { WakeSignal } from './wake-signal.js';

describe('WakeSignal', () => {
  it('a ring cuts a wait short', async () => {
    const signal = new WakeSignal();
    const waited = signal.wait(60_000);
    signal.ring();
    await waited;
    expect(signal.pending).toBe(true);
  });

  it('a ring while the loop is busy stays pending until cleared', () => {
    const signal = new WakeSignal();
    signal.ring();
    expect(signal.pending).toBe(true);
    signal.clear();
    expect(signal.pending).toBe(false);
  });

  it('a wait that was not rung ends after its time, and a later ring finds nobody waiting', async () => {
    const signal = new WakeSignal();
    await signal.wait(1);
    expect(signal.pending).toBe(false);
    signal.ring();
    expect(signal.pending).toBe(true);
  });
});
