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
  | 'already_pushed';

export interface MemberSettings {
  user_id: string;
  muted_until: string | null;
  notify: 'all' | 'mentions' | 'none';
  last_read_seq: number;
}

export interface MessageFacts {
  seq: number;
  sender_id: string;
  mentions: readonly string[];
  deleted: boolean;
}

/**
 * Whether a member's settings let a message reach them, before presence and devices are looked
 * at: not the sender, not muted, notify level allows it, not read already, not deleted.
 */
export function settingsVerdict(member: MemberSettings, message: MessageFacts, now: Date): SuppressionReason | null {
  if (member.user_id === message.sender_id) return 'sender';
  if (member.muted_until !== null && new Date(member.muted_until) > now) return 'muted';
  if (member.notify === 'none') return 'notify_none';
  if (member.notify === 'mentions' && !message.mentions.includes(member.user_id)) return 'not_mentioned';
  if (member.last_read_seq >= message.seq) return 'read';
  if (message.deleted) return 'deleted';
  return null;
}
