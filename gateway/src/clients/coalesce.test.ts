import { describe, expect, it } from 'vitest';
import { CallCoalescer } from './coalesce.js';

describe('CallCoalescer', () => {
  it('answers the lookups of one turn of the loop with one call per chunk, sharing repeated keys', async () => {
    const calls: string[][] = [];
    const lengths = new CallCoalescer<string, number>(async (keys) => {
      calls.push(keys);
      return new Map(keys.map((k) => [k, k.length]));
    }, 2);
    const answers = await Promise.all(['a', 'bb', 'a', 'ccc'].map((k) => lengths.get(k)));
    expect(answers).toEqual([1, 2, 1, 3]);
    expect(calls).toEqual([['a', 'bb'], ['ccc']]);
    expect(await lengths.get('dddd')).toBe(4);
    expect(calls).toHaveLength(3);
  });

  it('rejects every waiter of a failed chunk, and a key the call left out', async () => {
    const failing = new CallCoalescer<string, number>(async () => {
      throw new Error('rooms service unavailable');
    }, 10);
    await expect(Promise.all([failing.get('x'), failing.get('y')])).rejects.toThrow('rooms service unavailable');
    const partial = new CallCoalescer<string, number>(async () => new Map([['x', 1]]), 10);
    const [x, y] = await Promise.allSettled([partial.get('x'), partial.get('y')]);
    expect(x).toEqual({ status: 'fulfilled', value: 1 });
    expect(y).toMatchObject({ status: 'rejected', reason: { message: 'no answer for y' } });
  });
});
