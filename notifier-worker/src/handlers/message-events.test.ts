import { describe, expect, it } from 'vitest';
import { dueRowChunks, type PushPlan } from './message-events.js';

/** A plan whose messages have these numbers of rows. */
function planOf(rowCounts: number[]): PushPlan {
  return {
    hasRows: (index) => (rowCounts[index] ?? 0) > 0,
    rowsFor: (index, traceparent) =>
      Array.from({ length: rowCounts[index] ?? 0 }, (_, n) => ({
        device_token: `d${n}`,
        message_id: `m${index}`,
        user_id: `u${n}`,
        room_id: 'r',
        seq: index + 1,
        traceparent,
      })),
  };
}

describe('due row chunks', () => {
  it('makes rows a chunk at a time, never splitting a message, each row with its message trace context', () => {
    const messages = [0, 1, 2].map((index) => ({ index, room_id: 'r', urgent: false, traceparent: `t${index}` }));
    const chunks = [...dueRowChunks(planOf([4, 7, 2]), messages, 5)];
    expect(chunks.map((c) => c.length)).toEqual([11, 2]);
    expect(chunks.map((c) => [...new Set(c.map((row) => row.message_id))])).toEqual([['m0', 'm1'], ['m2']]);
    expect(chunks.flat().every((row) => row.traceparent === `t${row.seq - 1}`)).toBe(true);
  });

  it('makes 200,000 rows of one message without spreading them into a call', () => {
    const [chunk, ...rest] = [...dueRowChunks(planOf([200_000]), [{ index: 0, room_id: 'r', urgent: false, traceparent: null }], 50_000)];
    expect(chunk).toHaveLength(200_000);
    expect(rest).toEqual([]);
  });
});
