import { describe, expect, it } from 'vitest';
import { newRefusalState, RefusalPolicy } from './refusal-policy.js';

describe('RefusalPolicy', () => {
  it('never closes for a burst that arrived before the retry time, however large', () => {
    const policy = new RefusalPolicy(3);
    const state = newRefusalState();
    for (let i = 0; i < 500; i++) expect(policy.refused(state, 'message.send', 1000, 2000, 1000 + i)).toBe(false);
  });

  it('closes once more than closeAfter refused frames arrived after the retry time', () => {
    const policy = new RefusalPolicy(3);
    const state = newRefusalState();
    expect(policy.refused(state, 'message.send', 1000, 2000, 1000)).toBe(false); // told: wait until 3000
    const verdicts = [0, 1, 2, 3].map((i) => policy.refused(state, 'message.send', 3000 + i, 2000, 3000 + i));
    expect(verdicts).toEqual([false, false, false, true]);
  });

  it('keeps frame types apart and forgets an instruction after a quiet window', () => {
    const policy = new RefusalPolicy(1);
    const state = newRefusalState();
    policy.refused(state, 'typing', 0, 500, 0);
    // A first refusal of another type is a fresh instruction, not a strike.
    expect(policy.refused(state, 'message.send', 600, 100, 600)).toBe(false);
    // Long after the typing instruction, with no strike since: a fresh instruction again.
    expect(policy.refused(state, 'typing', 20_000, 500, 20_000)).toBe(false);
    expect(policy.refused(state, 'typing', 20_100, 500, 20_100)).toBe(false);
    expect(policy.refused(state, 'typing', 20_600, 500, 20_600)).toBe(false);
    expect(policy.refused(state, 'typing', 20_700, 500, 20_700)).toBe(true);
  });
});
