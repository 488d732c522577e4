import type { Role, RoomKind } from '@chat/shared';
import type { RoomAction } from '@chat/shared/rpc';

/** The facts a decision needs; `role` is null for a non-member. */
export interface AccessFacts {
  role: Role | null;
  kind: RoomKind | null;
  tokenRoles: readonly string[];
  /** A closed room (its host object closed) is read-only. */
  closed?: boolean;
  /** A direct room whose other member blocked this user: they may read but not send. */
  blocked?: boolean;
}

/** Actions decided inside the rooms service, beside those other services ask about. */
export type MembershipAction = 'room.rename' | 'member.add' | 'member.change_role' | 'member.leave';
export type PolicyAction = RoomAction | MembershipAction;

const isService = (facts: AccessFacts) => facts.tokenRoles.includes('service');
const isManager = (role: Role | null) => role === 'owner' || role === 'admin';
/** Token roles that may send urgent messages and acknowledgement requests in any room they are in. */
const URGENT_TOKEN_ROLES = ['staff', 'moderator', 'service'];

/**
 * The one rule set for what a user may do in a room. Every service asks through `authorize`
 * (NATS) or the rooms domain calls it directly; nothing else decides.
 *
 * - direct rooms: their two members read and send; nobody renames them or changes who is in them;
 * - group rooms: owners and admins rename and add; owners change roles; anyone may leave;
 * - context rooms: the host application (a `service` token) renames and sets the members, and
 *   closes them: a closed room is read-only (sends, edits, reactions refused as a conflict);
 * - urgent messages and acknowledgement requests: room owners/admins, staff, moderator and service tokens.
 */
export function isAllowed(action: PolicyAction, facts: AccessFacts): boolean {
  const member = facts.role !== null;
  switch (action) {
    case 'room.read':
      return member;
    case 'message.send':
      return member && !facts.closed && !facts.blocked;
    case 'message.send_urgent':
      // DESIGN 10.2: a member who manages the room, or whose token marks staff, a moderator or the host.
      return member && !facts.closed && (isManager(facts.role) || facts.tokenRoles.some((r) => URGENT_TOKEN_ROLES.includes(r)));
    case 'message.moderate':
      return facts.tokenRoles.includes('moderator') || isManager(facts.role);
    case 'room.rename':
      if (facts.kind === 'context') return isService(facts);
      return facts.kind === 'group' && isManager(facts.role);
    case 'member.add':
      return facts.kind === 'group' && isManager(facts.role);
    case 'member.change_role':
      return facts.kind === 'group' && facts.role === 'owner';
    case 'member.leave':
      return facts.kind === 'group' && member;
  }
}

/** Owners remove anyone, admins remove plain members; in group rooms only. */
export function mayRemove(facts: AccessFacts, targetRole: Role): boolean {
  if (facts.kind !== 'group') return false;
  if (facts.role === 'owner') return true;
  return facts.role === 'admin' && targetRole === 'member';
}
