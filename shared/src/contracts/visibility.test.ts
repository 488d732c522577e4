import { describe, expect, it } from 'vitest';
import { messageSeqOfEvent, replyToOfEvent, visibleEvent } from './visibility.js';

const event = (seq: number, replyTo: string | null) =>
  JSON.stringify({
    type: 'message.created',
    room_id: 'r1',
    seq,
    message: { id: `m${seq}`, room_id: 'r1', seq, body: 'text with "seq":1 and "reply_to":"x" inside', reply_to: replyTo },
  });

describe('joined history on encoded events', () => {
  it('reads the message seq and reply_to of an event without trusting text inside strings', () => {
    expect(messageSeqOfEvent(event(7, null))).toBe(7);
    expect(replyToOfEvent(event(7, null))).toBeUndefined();
    expect(replyToOfEvent(event(7, 'm2'))).toBe('m2');
  });

  it('hides events about earlier messages and reply_to of earlier targets, and nothing else', () => {
    // Under shared history (0) nothing changes.
    expect(visibleEvent(event(3, 'm2'), 0, 2)).toBe(event(3, 'm2'));
    // The message itself is earlier: a stand-in.
    expect(JSON.parse(visibleEvent(event(3, null), 5))).toEqual({ type: 'event.hidden', room_id: 'r1', seq: 3 });
    // Visible, replying to an earlier message: the same event without reply_to.
    const stripped = JSON.parse(visibleEvent(event(8, 'm2'), 5, 2)) as { message: { reply_to: string | null; body: string } };
    expect(stripped.message.reply_to).toBeNull();
    expect(stripped.message.body).toContain('inside');
    // Visible, replying to a visible message (or no seq known for it): unchanged.
    expect(visibleEvent(event(8, 'm6'), 5, 6)).toBe(event(8, 'm6'));
    expect(visibleEvent(event(8, null), 5)).toBe(event(8, null));
  });
});
