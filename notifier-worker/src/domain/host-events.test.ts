import { HOST_EVENT_TYPES, type HostEventType } from '@chat/shared';
import { describe, expect, it } from 'vitest';
import { loadNotifierConfig } from '../config.js';
import { hostEventFromActivity, hostEventFromLog, retryDelayMs } from './host-events.js';

const all = new Set<HostEventType>(HOST_EVENT_TYPES);
const base = { DATABASE_URL: 'postgres://x@localhost/db', REDIS_URL: 'redis://localhost', JWT_SECRET: 'x'.repeat(32) };

describe('host events', () => {
  it('turns a persisted room event into the webhook payload, id from room and seq', () => {
    const at = new Date('2026-12-05T08:00:00.000Z');
    const queued = hostEventFromLog(
      { type: 'reaction.updated', room_id: 'r1', seq: 7, message: { id: 'm' }, user_id: 'u', emoji: '👍', action: 'added' },
      at,
      all,
    );
    expect(queued).toMatchObject({ id: 'evt_r1_7', lane: 'log', ordinal: 7, type: 'reaction.updated' });
    expect(JSON.parse(queued?.payload ?? '')).toEqual({
      id: 'evt_r1_7',
      type: 'reaction.updated',
      room_id: 'r1',
      seq: 7,
      occurred_at: '2026-12-05T08:00:00.000Z',
      data: { message: { id: 'm' }, user_id: 'u', emoji: '👍', action: 'added' },
    });
  });

  it('leaves out filtered and unknown types, and activity posing as persisted', () => {
    const at = new Date();
    expect(hostEventFromLog({ type: 'message.created', room_id: 'r', seq: 1, message: {} }, at, new Set(['member.added']))).toBeNull();
    expect(hostEventFromLog({ type: 'typing', room_id: 'r', seq: 1 }, at, all)).toBeNull();
    expect(hostEventFromLog({ type: 'member.added', room_id: 'r', seq: 1 }, at, all)).toBeNull();
    const activity = { id: 'evt_1', type: 'member.added', room_id: 'r', occurred_at: at.toISOString(), data: { user_id: 'u' } };
    expect(hostEventFromActivity(activity, 42, all)).toMatchObject({ id: 'evt_1', lane: 'activity', ordinal: 42 });
    expect(hostEventFromActivity({ ...activity, type: 'message.created' }, 42, all)).toBeNull();
  });

  it('backs off exponentially up to the cap', () => {
    expect(retryDelayMs(1, 1000, 60_000, () => 1)).toBe(1000);
    expect(retryDelayMs(4, 1000, 60_000, () => 1)).toBe(8000);
    expect(retryDelayMs(20, 1000, 60_000, () => 0)).toBe(30_000);
  });

  it('refuses a short secret, a URL without a secret and unknown types, naming the variable', () => {
    expect(() => loadNotifierConfig({ ...base, EVENTS_WEBHOOK_URL: 'http://h/e', EVENTS_WEBHOOK_SECRET: 'short' })).toThrow(
      /EVENTS_WEBHOOK_SECRET/,
    );
    expect(() => loadNotifierConfig({ ...base, EVENTS_WEBHOOK_URL: 'http://h/e' })).toThrow(/EVENTS_WEBHOOK_SECRET/);
    expect(() => loadNotifierConfig({ ...base, EVENTS_WEBHOOK_SECRET: 'x'.repeat(16) })).toThrow(/EVENTS_WEBHOOK_URL/);
    expect(() =>
      loadNotifierConfig({
        ...base,
        EVENTS_WEBHOOK_URL: 'http://h/e',
        EVENTS_WEBHOOK_SECRET: 'x'.repeat(16),
        EVENTS_WEBHOOK_TYPES: 'message.created,typing',
      }),
    ).toThrow(/EVENTS_WEBHOOK_TYPES/);
    const ok = loadNotifierConfig({
      ...base,
      EVENTS_WEBHOOK_URL: 'http://h/e',
      EVENTS_WEBHOOK_SECRET: 'x'.repeat(16),
      EVENTS_WEBHOOK_TYPES: 'room.closed, member.added',
    });
    expect(ok).toMatchObject({ EVENTS_WEBHOOK_TYPES: ['room.closed', 'member.added'], EVENTS_WEBHOOK_MAX_ATTEMPTS: 10 });
  });
});
