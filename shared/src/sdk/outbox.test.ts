import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Outbox, type OutboxPort } from './outbox.js';
import { ChatRequestError, memoryOutbox, type OutboxEntry } from './types.js';

/** A port whose answers the test queues: an object is an ack, an error is thrown. */
function fakePort() {
  const answers: Array<Record<string, unknown> | ChatRequestError> = [];
  const sent: Array<Record<string, unknown>> = [];
  const changes: OutboxEntry[] = [];
  let open = true;
  let ids = 0;
  const port: OutboxPort = {
    isOpen: () => open,
    request: async (frame) => {
      sent.push(frame);
      const answer = answers.shift() ?? new ChatRequestError('disconnected', 'no answer queued');
      if (answer instanceof ChatRequestError) throw answer;
      return answer;
    },
    retryDelay: () => 1000,
    changed: (entry) => changes.push(entry),
    newId: () => `m${++ids}`,
  };
  return { port, answers, sent, changes, setOpen: (value: boolean) => (open = value) };
}

const ack = (id: string) => ({ message: { id, seq: 1 } });
const flushed = () => vi.advanceTimersByTimeAsync(0);

describe('Outbox', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('stores an entry before sending and marks it sent on the ack', async () => {
    const storage = memoryOutbox();
    const fake = fakePort();
    fake.answers.push(ack('x'));
    const outbox = new Outbox(storage, fake.port);
    outbox.add('r1', { body: 'hi' });
    await flushed();
    expect(fake.sent).toEqual([{ type: 'message.send', room_id: 'r1', client_msg_id: 'm1', body: 'hi' }]);
    expect(fake.changes.map((e) => e.state)).toEqual(['pending', 'sent']);
    expect(storage.load()[0]?.state).toBe('sent');
  });

  it('fails on a permanent error, and retry() sends it again with the same id', async () => {
    const fake = fakePort();
    fake.answers.push(new ChatRequestError('invalid', 'too long'));
    const outbox = new Outbox(memoryOutbox(), fake.port);
    const entry = outbox.add('r1', { body: 'x' });
    await flushed();
    expect(outbox.all()[0]).toMatchObject({ state: 'failed', error: { code: 'invalid' } });
    fake.answers.push(ack('y'));
    outbox.retry(entry.client_msg_id);
    await flushed();
    expect(outbox.all()[0]).toMatchObject({ state: 'sent', attempts: 2 });
    expect(outbox.all()[0]?.error).toBeUndefined();
    expect(fake.sent.map((f) => f.client_msg_id)).toEqual(['m1', 'm1']);
  });

  it('stays pending on a transient error, waits, then sends in creation order', async () => {
    const fake = fakePort();
    fake.answers.push(new ChatRequestError('rate_limited', 'slow down', 5000));
    const outbox = new Outbox(memoryOutbox(), fake.port);
    outbox.add('r1', { body: 'first' });
    outbox.add('r1', { body: 'second' });
    await flushed();
    expect(outbox.all().map((e) => e.state)).toEqual(['pending', 'pending']);
    expect(fake.sent).toHaveLength(1);
    fake.answers.push(ack('a'), ack('b'));
    await vi.advanceTimersByTimeAsync(4999);
    expect(fake.sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.sent.map((f) => f.body)).toEqual(['first', 'first', 'second']);
    expect(outbox.all().map((e) => e.state)).toEqual(['sent', 'sent']);
  });

  it('keeps entries while closed and picks up stored entries in a new session', async () => {
    const storage = memoryOutbox();
    const first = fakePort();
    first.setOpen(false);
    new Outbox(storage, first.port).add('r1', { body: 'offline' });
    await flushed();
    expect(first.sent).toEqual([]);
    const second = fakePort();
    second.answers.push(ack('z'));
    const outbox = new Outbox(storage, second.port);
    await outbox.flush();
    expect(second.sent.map((f) => f.client_msg_id)).toEqual(['m1']);
    expect(outbox.all()[0]?.state).toBe('sent');
    outbox.forget('m1');
    expect(storage.load()).toEqual([]);
  });
});
