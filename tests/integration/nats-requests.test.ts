import { randomUUID } from 'node:crypto';
import { createLogger } from '@chat/shared/logging';
import { connectNats } from '@chat/shared/nats';
import { connect, ErrorCode, type NatsConnection, type NatsError } from 'nats';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

/**
 * nats.js is patched (patches/nats@2.29.3.patch) so that an answered request no longer builds a
 * "cancelled" error it throws away. Every RPC and JetStream publish goes through this code: it
 * must still answer, time out, report no responders, and forget each request once it is settled.
 */
const infra = inject('infra');
let nc: NatsConnection;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** Requests the connection still waits for (nats.js internals, read only). */
const pendingRequests = () => (nc as unknown as { protocol: { muxSubscriptions: { size(): number } } }).protocol.muxSubscriptions.size();

beforeAll(async () => {
  nc = await connect({ servers: infra.natsUrl, noAsyncTraces: true });
});
afterAll(async () => {
  await nc.close();
});

describe('NATS requests (patched nats.js)', () => {
  it('answers every request with its own reply and keeps nothing once all are answered', async () => {
    const subject = `test.requests.${randomUUID()}`;
    nc.subscribe(subject, { callback: (_error, msg) => msg.respond(encoder.encode(`re:${decoder.decode(msg.data)}`)) });
    await nc.flush();
    const replies = await Promise.all(
      Array.from({ length: 500 }, async (_, i) =>
        decoder.decode((await nc.request(subject, encoder.encode(String(i)), { timeout: 10_000 })).data),
      ),
    );
    expect(replies).toEqual(Array.from({ length: 500 }, (_, i) => `re:${i}`));
    expect(pendingRequests()).toBe(0);
  });

  it('rejects a request nobody answers with no responders, and one answered too late with a timeout', async () => {
    const nobody = await nc
      .request(`test.nobody.${randomUUID()}`, encoder.encode('x'), { timeout: 10_000 })
      .catch((error: NatsError) => error);
    expect((nobody as NatsError).code).toBe(ErrorCode.NoResponders);

    const slow = `test.slow.${randomUUID()}`;
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    nc.subscribe(slow, {
      callback: (_error, msg) => {
        void released.then(() => msg.respond(encoder.encode('late')));
      },
    });
    await nc.flush();
    const late = await nc.request(slow, encoder.encode('x'), { timeout: 200 }).catch((error: NatsError) => error);
    expect((late as NatsError).code).toBe(ErrorCode.Timeout);
    release();
    await nc.flush();
    expect(pendingRequests()).toBe(0);
  });
});

describe('NATS writes per turn of the event loop (patched nats.js, flushAtTurnEnd)', () => {
  const logger = createLogger({ service: 'test', version: '0', level: 'silent', pretty: false });
  /**
   * Counts the writes a connection hands its socket that carry a publish to `subject` (nats.js
   * internals, wrapped, not changed); a PONG the server asks for meanwhile is not one of them.
   */
  const countPublishWrites = (connection: NatsConnection, subject: string) => {
    const transport = (connection as unknown as { protocol: { transport: { send(frame: Uint8Array): void } } }).protocol.transport;
    const send = transport.send.bind(transport);
    const counter = { writes: 0 };
    transport.send = (frame) => {
      if (decoder.decode(frame).includes(`PUB ${subject} `)) counter.writes++;
      send(frame);
    };
    return counter;
  };
  /** Publishes once from each of `count` callbacks of one turn (as a uWS server calls back once per socket). */
  const publishFromSeparateCallbacks = (connection: NatsConnection, subject: string, count: number) =>
    new Promise<void>((resolve) => {
      for (let i = 0; i < count; i++) {
        setImmediate(() => {
          connection.publish(subject, encoder.encode(String(i)));
          if (i === count - 1) resolve();
        });
      }
    });

  it.each([
    { flushAtTurnEnd: false, writes: 20 },
    { flushAtTurnEnd: true, writes: 1 },
  ])(
    'flushAtTurnEnd $flushAtTurnEnd: 20 callbacks of one turn publish in $writes write(s), and every message arrives',
    async ({ flushAtTurnEnd, writes }) => {
      const subject = `test.turn.${randomUUID()}`;
      const received: string[] = [];
      let allReceived!: () => void;
      const done = new Promise<void>((resolve) => {
        allReceived = resolve;
      });
      const subscription = nc.subscribe(subject, {
        callback: (_error, msg) => {
          received.push(decoder.decode(msg.data));
          if (received.length === 20) allReceived();
        },
      });
      await nc.flush();
      const link = await connectNats([infra.natsUrl], 'test-turn', logger, { flushAtTurnEnd });
      try {
        await link.nc.flush();
        const counter = countPublishWrites(link.nc, subject);
        await publishFromSeparateCallbacks(link.nc, subject, 20);
        await done;
        expect(counter.writes).toBe(writes);
        expect(received).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
      } finally {
        subscription.unsubscribe();
        await link.nc.close();
      }
    },
  );
});

/**
 * The patch makes a subscription's `closed` and its iterator's signals when first used (a
 * callback subscription, one per room a gateway serves, never uses them): each must still settle
 * whether it is first read before or after the event that settles it.
 */
describe('subscription promises made when first used (patched nats.js)', () => {
  it('a callback subscription reports closed when read after its unsubscribe, and when read before it', async () => {
    const early = nc.subscribe(`test.lazy.${randomUUID()}`, { callback: () => undefined });
    const closedEarly = early.closed;
    early.unsubscribe();
    await expect(closedEarly).resolves.toBeUndefined();

    const late = nc.subscribe(`test.lazy.${randomUUID()}`, { callback: () => undefined });
    late.unsubscribe();
    await expect(late.closed).resolves.toBeUndefined();
  });

  it('an iterator subscription yields every message, waits for the next, and ends on unsubscribe', async () => {
    const subject = `test.lazy.${randomUUID()}`;
    const subscription = nc.subscribe(subject);
    const seen: string[] = [];
    const reading = (async () => {
      for await (const msg of subscription) {
        seen.push(decoder.decode(msg.data));
        // After the first, the iterator is waiting on a signal made when it was first needed.
        if (seen.length === 1) setImmediate(() => nc.publish(subject, encoder.encode('second')));
        if (seen.length === 2) subscription.unsubscribe();
      }
    })();
    nc.publish(subject, encoder.encode('first'));
    await reading;
    await subscription.closed;
    expect(seen).toEqual(['first', 'second']);
  });
});
