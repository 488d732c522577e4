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

/** The event as a recipient who sees only what follows `visibleFromSeq` may receive it. */
export function visibleEvent(text: string, visibleFromSeq: number): string {
  if (visibleFromSeq <= 0) return text;
  const messageSeq = messageSeqOfEvent(text);
  if (messageSeq === undefined || messageSeq > visibleFromSeq) return text;
  const { room_id, seq } = JSON.parse(text) as { room_id: string; seq: number };
  return JSON.stringify({ type: 'event.hidden', room_id, seq });
}
