import { describe, expect, it } from 'vitest';
import { CallCoalescer, TurnBatcher } from './coalesce.js';

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

  it('asks again for a key in a later turn instead of keeping the earlier answer', async () => {
    let version = 0;
    const versions = new CallCoalescer<string, number>(async (keys) => new Map(keys.map((k) => [k, version])), 10);
    expect(await versions.get('room')).toBe(0);
    version = 1;
    expect(await versions.get('room')).toBe(1);
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

describe('TurnBatcher', () => {
  it('sends the items of one turn in chunks and settles each item with its own answer or error', async () => {
    const batches: number[][] = [];
    const halves = new TurnBatcher<number, number>(async (items) => {
      batches.push(items);
      return items.map((n) => (n % 2 === 0 ? n / 2 : new Error(`odd ${n}`)));
    }, 3);
    const settled = await Promise.allSettled([2, 3, 4, 6, 8].map((n) => halves.add(n)));
    expect(batches).toEqual([
      [2, 3, 4],
      [6, 8],
    ]);
    expect(settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message))).toEqual([1, 'odd 3', 2, 3, 4]);
  });

  it('rejects the items of a failed batch and of a short answer', async () => {
    const failing = new TurnBatcher<number, number>(async () => {
      throw new Error('messages service unavailable');
    }, 10);
    await expect(failing.add(1)).rejects.toThrow('messages service unavailable');
    const short = new TurnBatcher<number, number>(async (items) => items.slice(1), 10);
    const [first, second] = await Promise.allSettled([short.add(1), short.add(2)]);
    expect(first).toEqual({ status: 'fulfilled', value: 2 });
    expect(second).toMatchObject({ status: 'rejected', reason: { message: 'no answer in the batch' } });
  });
});
