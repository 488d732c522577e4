/**
 * Joined history (DESIGN 10.3): a late joiner never receives an event about a message from before
 * they joined. Events are encoded once and shared by every recipient, so the few recipients who
 * may not see one get a stand-in that keeps only its place in the sequence (`event.hidden`).
 */

const MESSAGE_KEY = '"message":{';
const SEQ_KEY = '"seq":';

/**
 * The `message.seq` of an encoded room event, read without parsing the whole event: the message
 * object starts with `id`, `room_id`, `seq`, and a `"seq":` inside a string would be escaped.
 */
export function messageSeqOfEvent(text: string): number | undefined {
  const at = text.indexOf(MESSAGE_KEY);
  if (at === -1) return undefined;
  const seqAt = text.indexOf(SEQ_KEY, at + MESSAGE_KEY.length);
  if (seqAt === -1) return undefined;
  const match = /^\d+/.exec(text.slice(seqAt + SEQ_KEY.length, seqAt + SEQ_KEY.length + 20));
  return match ? Number(match[0]) : undefined;
}

/**
 * The NATS header of a room event whose message replies to another: that message's seq. Internal
 * (clients never see headers); with it a gateway tells whether a late joiner may see the target.
 */
export const REPLY_TO_SEQ_HEADER = 'Chat-Reply-To-Seq';

/**
 * The event as a recipient who sees only what follows `visibleFromSeq` may receive it: a stand-in
 * for an event about an earlier message, and no `reply_to` on a message that replies to an
 * earlier one (`replyToSeq`: the seq of the message replied to, when it replies).
 */
export function visibleEvent(text: string, visibleFromSeq: number, replyToSeq?: number): string {
  if (visibleFromSeq <= 0) return text;
  const messageSeq = messageSeqOfEvent(text);
  if (messageSeq === undefined || !needsOwnCopy(messageSeq, visibleFromSeq, replyToSeq)) return text;
  if (messageSeq <= visibleFromSeq) {
    const { room_id, seq } = JSON.parse(text) as { room_id: string; seq: number };
    return JSON.stringify({ type: 'event.hidden', room_id, seq });
  }
  const event = JSON.parse(text) as { message: { reply_to: string | null } };
  event.message.reply_to = null;
  return JSON.stringify(event);
}

/**
 * Whether a recipient who sees only what follows `visibleFromSeq` needs their own copy of an event
 * about the message `messageSeq` (replying to `replyToSeq`): it is about an earlier message, or
 * names one in `reply_to`. Everyone else shares the one encoding.
 */
export function needsOwnCopy(messageSeq: number | undefined, visibleFromSeq: number, replyToSeq?: number): boolean {
  if (visibleFromSeq <= 0 || messageSeq === undefined) return false;
  return messageSeq <= visibleFromSeq || (replyToSeq !== undefined && replyToSeq <= visibleFromSeq);
}

/** The id an encoded event's message replies to, if any (read only where a late joiner needs it). */
export function replyToOfEvent(text: string): string | undefined {
  if (!text.includes('"reply_to":"')) return undefined;
  const event = JSON.parse(text) as { message?: { reply_to?: string | null } };
  return event.message?.reply_to ?? undefined;
}
