import { createLogger } from '@chat/shared/logging';
import type { Msg, NatsConnection } from 'nats';

type MsgCallback = (error: Error | null, msg: Msg) => void;

import { describe, expect, it } from 'vitest';
import type { TemplatedApp } from '../uws.js';
import { RoomChannel, RoomHub, type RoomLogSource } from './room-hub.js';
import type { ChatSocket } from './session.js';

const roomId = '00000000-0000-4000-8000-000000000001';
const logger = createLogger({ service: 'test', version: '0', level: 'silent', pretty: false });
const event = (seq: number) => JSON.stringify({ type: 'message.created', room_id: roomId, seq });

/** A hub over a fake NATS connection and uWS app: what it fans out, in order, and what it read from the log. */
function hubWith(log: { lastSeq: number; events: string[] }) {
  let deliver: MsgCallback | undefined;
  let flushes = 0;
  const nc = {
    subscribe: (_subject: string, options: { callback: MsgCallback }) => {
      deliver = options.callback;
      return { unsubscribe: () => undefined };
    },
    flush: () => {
      flushes++;
      return Promise.resolve();
    },
  } as unknown as NatsConnection;
  const fannedOut: number[] = [];
  const waiters: Array<{ count: number; resolve(): void }> = [];
  const app = {
    publish: (_topic: string, data: Uint8Array) => {
      fannedOut.push((JSON.parse(Buffer.from(data).toString()) as { seq: number }).seq);
      for (const w of waiters) if (fannedOut.length >= w.count) w.resolve();
      return true;
    },
  } as unknown as TemplatedApp;
  const reads: Array<{ after: number; limit: number }> = [];
  let filled = 0;
  const source: RoomLogSource = {
    lastSeq: () => Promise.resolve(log.lastSeq),
    eventsAfter: (_room, after, limit) => {
      reads.push({ after, limit });
      return Promise.resolve(
        log.events
          .filter((e) => (JSON.parse(e) as { seq: number }).seq > after)
          .slice(0, limit)
          .map((text) => ({ text })),
      );
    },
    holdMs: 5,
  };
  const hub = new RoomHub(
    nc,
    app,
    'ns',
    logger,
    {
      roomChannels: () => undefined,
      socketSubscriptions: () => undefined,
      eventFannedOut: () => undefined,
      duplicateDropped: () => undefined,
      filledFromLog: (count) => {
        filled += count;
      },
    },
    {
      load: () => Promise.resolve({ user_ids: [], history_visibility: 'shared' as const }),
      maxMembers: 1000,
      ttlMs: 1000,
      onError: () => undefined,
    },
    source,
  );
  const receive = (seq: number) => deliver?.(null, { subject: `ns.room.${roomId}.event`, data: Buffer.from(event(seq)) } as unknown as Msg);
  const fannedOutCount = (count: number) =>
    new Promise<void>((resolve) => {
      if (fannedOut.length >= count) resolve();
      else waiters.push({ count, resolve });
    });
  return { hub, receive, fannedOut, fannedOutCount, reads, filled: () => filled, flushes: () => flushes };
}

describe('room hub channels', () => {
  it('checks the subscriptions of every channel opened in one turn of the loop with one flush', async () => {
    const t = hubWith({ lastSeq: 0, events: [] });
    const rooms = ['00000000-0000-4000-8000-00000000000a', '00000000-0000-4000-8000-00000000000b', roomId];
    await Promise.all(rooms.map((room) => t.hub.join(room)));
    expect(t.flushes()).toBe(1);
    await t.hub.join('00000000-0000-4000-8000-00000000000c');
    expect(t.flushes()).toBe(2);
    // A channel already open needs no check.
    await t.hub.join(roomId);
    expect(t.flushes()).toBe(2);
  });
});

describe('room hub ordering', () => {
  it('fans out events that arrive out of order in seq order, without reading the log when the gap closes in time', async () => {
    const t = hubWith({ lastSeq: 4, events: [] });
    const channel = await t.hub.join(roomId);
    t.receive(7);
    t.receive(6);
    t.receive(5);
    expect(t.fannedOut).toEqual([5, 6, 7]);
    expect(channel.lastSeq).toBe(7);
    expect(t.reads).toEqual([]);
    // A re-published event is dropped.
    t.receive(6);
    expect(t.fannedOut).toEqual([5, 6, 7]);
    t.hub.leave(roomId);
  });

  it('reads a gap from the log when the missing events do not arrive within the hold time, then releases what was held', async () => {
    const t = hubWith({ lastSeq: 1, events: [event(2), event(3), event(4)] });
    const channel = await t.hub.join(roomId);
    t.receive(4);
    await t.fannedOutCount(3);
    expect(t.fannedOut).toEqual([2, 3, 4]);
    expect(t.reads).toEqual([{ after: 1, limit: 2 }]);
    expect(t.filled()).toBe(2);
    expect(channel.lastSeq).toBe(4);
    // A late arrival of a filled event is a duplicate.
    t.receive(3);
    t.receive(5);
    expect(t.fannedOut).toEqual([2, 3, 4, 5]);
    t.hub.leave(roomId);
  });

  it('fills a gap ahead of 200,000 held events, more than one call takes as arguments', async () => {
    const held = 200_000;
    const t = hubWith({ lastSeq: 1, events: [event(2)] });
    const channel = await t.hub.join(roomId);
    for (let seq = 3; seq < 3 + held; seq++) t.receive(seq);
    expect(t.fannedOut).toEqual([]);
    await t.fannedOutCount(held + 1);
    expect(t.reads).toEqual([{ after: 1, limit: 1000 }]);
    expect(channel.lastSeq).toBe(held + 2);
    expect(t.fannedOut.every((seq, i) => seq === i + 2)).toBe(true);
    t.hub.leave(roomId);
  }, 30_000);

  it('starts each channel at the room log: earlier events are not fanned out again', async () => {
    const t = hubWith({ lastSeq: 10, events: [] });
    await t.hub.join(roomId);
    t.receive(9);
    t.receive(11);
    expect(t.fannedOut).toEqual([11]);
    t.hub.leave(roomId);
  });
});

describe('a room channel', () => {
  const socketOf = (userId: string) => ({ getUserData: () => ({ actor: { user_id: userId }, closed: false }) }) as unknown as ChatSocket;

  it('finds sockets by user and leaves out the typist, as an array and once it has grown into a Set', () => {
    const channel = new RoomChannel(roomId, RoomHub.topic(roomId));
    const sockets = Array.from({ length: 40 }, (_, i) => socketOf(`user-${i % 20}`));
    for (const [i, ws] of sockets.entries()) {
      channel.addSocket(ws);
      // user-0 has sockets 0 and 20: both found, before and after the 33rd socket.
      if (i === 20 || i === 39) expect(channel.socketsOf('user-0')).toEqual([sockets[0], sockets[20]]);
    }
    expect([...channel.socketsExcept('user-1')]).toHaveLength(38);
    for (const ws of sockets.slice(0, 39)) channel.removeSocket(ws);
    expect(channel.socketsOf('user-19')).toEqual([sockets[39]]);
    expect([...channel.socketsExcept('user-0')]).toEqual([sockets[39]]);
    channel.removeSocket(sockets[39] as ChatSocket);
    expect([...channel.socketsExcept('nobody')]).toEqual([]);
  });

  it('keeps its member list current with member signals, until it grows too large to list', async () => {
    const channel = new RoomChannel(roomId, RoomHub.topic(roomId));
    const source = {
      load: async () => ({ user_ids: ['a', 'b'], history_visibility: 'shared' as const }),
      maxMembers: 3,
      ttlMs: 60_000,
      onError: () => undefined,
    };
    expect(await channel.memberIds(source)).toEqual(['a', 'b']);
    channel.noteMembership('added', 'c', 3);
    channel.noteMembership('added', 'c', 3);
    channel.noteMembership('removed', 'a', 3);
    expect(await channel.memberIds(source)).toEqual(['b', 'c']);
    channel.noteMembership('added', 'd', 3);
    expect(await channel.memberIds(source)).toEqual(['b', 'c', 'd']);
    channel.noteMembership('added', 'e', 3);
    expect(await channel.memberIds(source)).toBeNull();
  });

  it('forgets a late joiner whose socket closed', async () => {
    const t = hubWith({ lastSeq: 0, events: [] });
    const channel = await t.hub.join(roomId);
    const session = { actor: { user_id: 'late' }, rooms: [] as string[], joining: undefined, closed: false };
    const ws = { getUserData: () => session, send: () => true } as unknown as ChatSocket;
    t.hub.attach(ws, roomId, 5);
    expect(channel.restricted?.size).toBe(1);
    session.closed = true;
    t.hub.detach(ws, roomId);
    expect(channel.restricted).toBeUndefined();
  });
});
