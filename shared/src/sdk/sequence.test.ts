import { describe, expect, it } from 'vitest';
import { RoomSequences } from './sequence.js';

/** A server whose subscribe acks the test resolves by hand, recording each since_seq asked for. */
function fakeSubscribe(lastSeq = 10) {
  const asked: Array<number | undefined> = [];
  const waiting: Array<() => void> = [];
  const request = (_roomId: string, since: number | undefined) => {
    asked.push(since);
    return new Promise<Record<string, unknown>>((resolve) => waiting.push(() => resolve({ last_seq: lastSeq })));
  };
  const answerAll = async () => {
    for (const answer of waiting.splice(0)) answer();
    await Promise.resolve();
    await Promise.resolve();
  };
  return { request, asked, answerAll };
}

const created = (seq: number) => ({ type: 'message.created', room_id: 'r1', seq });

describe('RoomSequences', () => {
  it('starts a new room at the ack, applies in order and drops duplicates', async () => {
    const server = fakeSubscribe(10);
    const rooms = new RoomSequences(server.request);
    const subscribed = rooms.subscribe('r1');
    await server.answerAll();
    await subscribed;
    expect(server.asked).toEqual([undefined]);
    expect(rooms.accept(created(11))).toBe('applied');
    expect(rooms.accept(created(11))).toBe('duplicate');
    expect(rooms.accept({ type: 'typing', room_id: 'r1' })).toBe('live');
    expect(rooms.accept(created(1))).toBe('duplicate');
    expect(rooms.accept({ type: 'message.created', room_id: 'r2', seq: 1 })).toBe('untracked');
    expect(rooms.lastSeq('r1')).toBe(11);
  });

  it('asks for one replay from the last applied seq on a gap, however many events skip ahead', async () => {
    const server = fakeSubscribe();
    const rooms = new RoomSequences(server.request);
    void rooms.subscribe('r1', 5);
    await server.answerAll();
    expect(rooms.accept(created(8))).toBe('gap');
    expect(rooms.accept(created(9))).toBe('gap');
    expect(server.asked).toEqual([5, 5]);
    await server.answerAll();
    // The replay fills 6..9 in order; a later gap may ask again.
    for (const seq of [6, 7, 8, 9]) expect(rooms.accept(created(seq))).toBe('applied');
    expect(rooms.accept(created(12))).toBe('gap');
    expect(server.asked).toEqual([5, 5, 9]);
  });

  it('resumes from a stored seq and forgets dropped rooms', async () => {
    const server = fakeSubscribe();
    const rooms = new RoomSequences(server.request);
    void rooms.subscribe('r1', 42);
    expect(server.asked).toEqual([42]);
    await server.answerAll();
    expect(rooms.lastSeq('r1')).toBe(42);
    rooms.drop('r1');
    expect([...rooms.roomIds()]).toEqual([]);
    expect(rooms.accept(created(43))).toBe('untracked');
  });
});
