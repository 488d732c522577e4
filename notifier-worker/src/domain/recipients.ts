/** Why someone gets no push; every reason is counted in the push funnel. */
export type SuppressionReason =
  | 'sender'
  | 'not_member'
  | 'muted'
  | 'notify_none'
  | 'not_mentioned'
  | 'online'
  | 'no_device'
  | 'read'
  | 'deleted'
  | 'already_pushed'
  | 'blocked';

export interface MemberSettings {
  user_id: string;
  muted_until: string | null;
  notify: 'all' | 'mentions' | 'none';
  last_read_seq: number;
  /** Joined history: messages up to this seq are from before the member joined. */
  visible_from_seq?: number | undefined;
  /** Users this member blocked: nothing they send or mention them in is pushed (DESIGN 10.3). */
  blocked_ids?: readonly string[] | undefined;
}

export interface MessageFacts {
  seq: number;
  sender_id: string;
  mentions: readonly string[];
  /** For a thread reply: its root's author and repliers, who hear of it as if mentioned (DESIGN 10.5). */
  thread_participants?: readonly string[];
  deleted: boolean;
  /** `urgent` reaches members whatever their mute and notify level (DESIGN 10.2). */
  priority?: 'normal' | 'urgent' | undefined;
}

/** Mentioned by name, or as a participant of the thread the message replies in. */
export function addressedTo(message: MessageFacts, userId: string): boolean {
  return message.mentions.includes(userId) || (message.thread_participants?.includes(userId) ?? false);
}

/**
 * Whether a member's settings let a message reach them, before presence and devices are looked
 * at: not the sender, not muted, notify level allows it, not read already, not deleted. An urgent
 * message passes mute and notify levels: staff must reach the field worker.
 */
export function settingsVerdict(member: MemberSettings, message: MessageFacts, now: Date): SuppressionReason | null {
  if (member.user_id === message.sender_id) return 'sender';
  // Joined history: a message from before the member joined is not theirs to see, nor to preview.
  if ((member.visible_from_seq ?? 0) >= message.seq) return 'not_member';
  // A blocked sender is never pushed to the blocker, urgent or not (DESIGN 10.3).
  if (member.blocked_ids?.includes(message.sender_id)) return 'blocked';
  if (message.priority !== 'urgent') {
    if (member.muted_until !== null && new Date(member.muted_until) > now) return 'muted';
    if (member.notify === 'none') return 'notify_none';
    if (member.notify === 'mentions' && !addressedTo(message, member.user_id)) return 'not_mentioned';
  }
  if (member.last_read_seq >= message.seq) return 'read';
  if (message.deleted) return 'deleted';
  return null;
}
