import type { PresenceRegistry } from '@chat/shared/presence';
import type { MemberSettings } from '../domain/recipients.js';

/** What the push pipeline needs from the other services (over NATS in production). */
export interface PushSources {
  pushFacts(
    roomId: string,
    userIds?: string[],
  ): Promise<{ room: { id: string; kind: string; title: string | null } | null; members: Array<MemberSettings & { name: string | null }> }>;
  messageStates(
    roomId: string,
    messageIds: string[],
  ): Promise<
    Array<{ id: string; seq: number; sender_id: string; sender_name: string | null; deleted: boolean; mentions: string[]; preview: string }>
  >;
  unreadTotal(userId: string): Promise<number>;
  presence: Pick<PresenceRegistry, 'isOnline' | 'onlineAmong'>;
}
