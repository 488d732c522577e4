import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { composePush, pushGroups } from './domain/push-content.js';
import { type MemberSettings, settingsVerdict } from './domain/recipients.js';
import { backoffWithJitter } from './jobs/queues.js';
import { outcomeOfStatus } from './providers/provider.js';
import { signWebhookBody, webhookPayload } from './providers/webhook.js';

const member: MemberSettings = { user_id: 'bob', muted_until: null, notify: 'all', last_read_seq: 0 };
const message = { seq: 5, sender_id: 'alice', mentions: [] as string[], deleted: false };
const now = new Date('2026-01-01T12:00:00Z');

describe('who gets a push', () => {
  it.each([
    ['the sender', { ...member, user_id: 'alice' }, message, 'sender'],
    ['a muted member', { ...member, muted_until: '2026-01-01T13:00:00Z' }, message, 'muted'],
    ['a member whose mute has passed', { ...member, muted_until: '2026-01-01T11:00:00Z' }, message, null],
    ['notify none', { ...member, notify: 'none' as const }, message, 'notify_none'],
    ['mentions only, not mentioned', { ...member, notify: 'mentions' as const }, message, 'not_mentioned'],
    ['mentions only, mentioned', { ...member, notify: 'mentions' as const }, { ...message, mentions: ['bob'] }, null],
    [
      'mentions only, a participant of the thread replied in',
      { ...member, notify: 'mentions' as const },
      { ...message, thread_participants: ['bob'] },
      null,
    ],
    ['already read', { ...member, last_read_seq: 5 }, message, 'read'],
    ['a deleted message', member, { ...message, deleted: true }, 'deleted'],
    ['a message from before the member joined (joined history)', { ...member, visible_from_seq: 5 }, message, 'not_member'],
    ['a message after the member joined (joined history)', { ...member, visible_from_seq: 4 }, message, null],
    ['a message from someone the member blocked', { ...member, blocked_ids: ['alice'] }, message, 'blocked'],
    ['everyone else', member, message, null],
    ['urgent, to a muted member', { ...member, muted_until: '2026-01-01T13:00:00Z' }, { ...message, priority: 'urgent' as const }, null],
    ['urgent, to notify none', { ...member, notify: 'none' as const }, { ...message, priority: 'urgent' as const }, null],
    ['urgent, mentions only, not mentioned', { ...member, notify: 'mentions' as const }, { ...message, priority: 'urgent' as const }, null],
    ['urgent, to the sender', { ...member, user_id: 'alice' }, { ...message, priority: 'urgent' as const }, 'sender'],
  ])('%s → %s', (_, who, what, verdict) => {
    expect(settingsVerdict(who, what, now)).toBe(verdict);
  });
});

describe('push content', () => {
  const room = { id: 'r', kind: 'group', title: 'Cleaning crew' };
  const m = (id: string, preview: string) => ({ id, sender_id: 'alice', sender_name: 'Alice', preview });
  it('names the sender for one message and counts several', () => {
    expect(composePush('bob', room, [m('1', 'Hello')], 3)).toMatchObject({
      title: 'Cleaning crew',
      body: 'Alice: Hello',
      count: 1,
      badge: 3,
    });
    expect(composePush('bob', room, [m('1', 'a'), m('2', 'b'), m('3', 'c')], 9)).toMatchObject({
      body: '3 new messages in Cleaning crew',
      message_ids: ['1', '2', '3'],
    });
    expect(composePush('bob', { id: 'd', kind: 'direct', title: null }, [m('1', 'Hi')], 1)).toMatchObject({ title: 'Alice', body: 'Hi' });
  });

  it('sends every urgent message alone and marks it; the rest go together', () => {
    const urgent = (id: string) => ({ ...m(id, 'Fire'), priority: 'urgent' as const });
    expect(pushGroups([m('1', 'a'), urgent('2'), m('3', 'c'), urgent('4')]).map((g) => g.map((x) => x.id))).toEqual([
      ['2'],
      ['4'],
      ['1', '3'],
    ]);
    expect(pushGroups([m('1', 'a')]).map((g) => g.map((x) => x.id))).toEqual([['1']]);
    expect(composePush('bob', room, [urgent('2')], 1).priority).toBe('urgent');
    expect(composePush('bob', room, [m('1', 'a')], 1).priority).toBeUndefined();
    const target = { token: 't', platform: 'webhook' as const, app_id: null };
    const push = { ...composePush('bob', room, [urgent('2')], 1), reminder: 2 };
    expect(webhookPayload(target, { kind: 'alert', push }, 'd1')).toMatchObject({ priority: 'urgent', reminder: 2, message_ids: ['2'] });
  });
});

describe('providers', () => {
  it('signs the raw webhook body with HMAC-SHA256', () => {
    const raw = JSON.stringify(
      webhookPayload({ token: 't', platform: 'webhook', app_id: null }, { kind: 'badge', user_id: 'bob', badge: 2 }, 'd1'),
    );
    expect(signWebhookBody(raw, 'secret-0123456789')).toBe(`sha256=${createHmac('sha256', 'secret-0123456789').update(raw).digest('hex')}`);
    expect(JSON.parse(raw)).toEqual({ type: 'badge', user_id: 'bob', device_token: 't', badge: 2, delivery_id: 'd1' });
  });

  it('sorts provider answers into accepted, transient, dead token and rejected', () => {
    const dead = (status: number) => status === 410;
    expect(outcomeOfStatus(200, '', dead).status).toBe('accepted');
    expect(outcomeOfStatus(503, '', dead).status).toBe('transient');
    expect(outcomeOfStatus(429, '', dead).status).toBe('transient');
    expect(outcomeOfStatus(410, '', dead).status).toBe('permanent');
    expect(outcomeOfStatus(403, '', dead).status).toBe('rejected');
  });

  it('backs off exponentially with jitter', () => {
    const delay = backoffWithJitter(1000);
    for (let attempt = 1; attempt <= 5; attempt++) {
      const step = 1000 * 2 ** (attempt - 1);
      const value = delay(attempt);
      expect(value).toBeGreaterThanOrEqual(step / 2);
      expect(value).toBeLessThanOrEqual(step);
    }
  });
});
