import type { Role, RoomKind } from '@chat/shared';
import type { RoomAction } from '@chat/shared/rpc';

/** The facts a decision needs; `role` is null for a non-member. */
export interface AccessFacts {
  role: Role | null;
  kind: RoomKind | null;
  tokenRoles: readonly string[];
}

/**
 * The one rule set for what a user may do in a room. Every service asks through `authorize`
 * (NATS) or calls this directly; nothing else decides.
 */
export function isAllowed(action: RoomAction, facts: AccessFacts): boolean {
  const member = facts.role !== null;
  switch (action) {
    case 'room.read':
    case 'message.send':
      return member;
    case 'message.moderate':
      return facts.tokenRoles.includes('moderator') || facts.role === 'owner' || facts.role === 'admin';
  }
}
