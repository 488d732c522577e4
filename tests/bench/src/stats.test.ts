import { describe, expect, it } from 'vitest';
import { appendAll, maxOf, percentiles, SAMPLE_CAPACITY } from './stats.js';

// One collect of a fan-out into 10,000 sockets carries up to a generator's reservoir of samples.
const aCollect = () => Array.from({ length: SAMPLE_CAPACITY }, (_, i) => i);

describe('bench statistics over a fan-out-sized collect', () => {
  it('appends every value of a collect too large to spread as arguments', () => {
    const values = aCollect();
    expect(() => ([] as number[]).push(...values)).toThrow(RangeError);
    const into = [-1];
    appendAll(into, values);
    expect(into).toHaveLength(values.length + 1);
    expect(into[0]).toBe(-1);
    expect(into.at(-1)).toBe(values.length - 1);
  });

  it('finds the largest value of a collect too large to spread as arguments', () => {
    const values = aCollect().reverse();
    expect(maxOf(values)).toBe(values.length - 1);
    expect(maxOf([3, -2, 7, 7, 1])).toBe(7);
    expect(maxOf([])).toBe(Number.NEGATIVE_INFINITY);
  });

  it('reads percentiles from the whole collect', () => {
    const p = percentiles(aCollect());
    expect(p.count).toBe(aCollect().length);
    expect(p.p50).toBe(Math.floor(aCollect().length / 2));
  });
});
