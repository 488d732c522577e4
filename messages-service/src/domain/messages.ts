import { randomUUID } from 'node:crypto';
import { ChatError, type Message, type Page, type SendMessageBody } from '@chat/shared';
import type { Actor } from '@chat/shared/auth';
import type { RoomAction } from '@chat/shared/rpc';
import type { Kysely } from 'kysely';
import {
  findByClientMsgId,
  findMessage,
  insertMessageWithEvent,
  messageExistsInRoom,
  readHistory,
  readLastSeq,
  readSyncWindow,
  softDeleteMessageWithEvent,
} from '../db/messages-repository.js';
import type { MessagesDatabase } from '../db/schema.js';
import { deriveKind, encodeRoomEvent, normaliseBody, planHistory, toMessage } from './message-rules.js';

/** The rooms service's one rule set, as this service reaches it. */
export interface RoomAccess {
  authorize(roomId: string, actor: Actor, action: RoomAction): Promise<{ allowed: boolean; member: boolean }>;
}

export interface MessagesDomainOptions {
  maxBodyChars: number;
  replayMaxEvents: number;
}

export class MessagesDomain {
  constructor(
    private readonly db: Kysely<MessagesDatabase>,
    private readonly rooms: RoomAccess,
    private readonly options: MessagesDomainOptions,
  ) {}

  async send(actor: Actor, roomId: string, input: SendMessageBody): Promise<{ message: Message; created: boolean }> {
    const body = normaliseBody(input.body, this.options.maxBodyChars);
    const earlier = await this.replayOfEarlierSend(actor, roomId, input.client_msg_id);
    if (earlier) return earlier;
    await this.requireAccess(roomId, actor, 'message.send');
    if (input.reply_to && !(await messageExistsInRoom(this.db, input.reply_to, roomId))) {
      throw ChatError.invalid('reply_to is not a message of this room', [{ path: 'reply_to', message: 'not in this room' }]);
    }
    if (input.attachment_ids?.length) {
      throw ChatError.invalid('unknown attachment', [{ path: 'attachment_ids', message: 'no such attachment' }]);
    }
    const attachments: Message['attachments'] = [];
    const row = await insertMessageWithEvent(
      this.db,
      {
        id: randomUUID(),
        room_id: roomId,
        sender_id: actor.user_id,
        sender_name: actor.name,
        client_msg_id: input.client_msg_id,
        kind: deriveKind(attachments),
        body,
        mentions: [...new Set(input.mentions ?? [])],
        reply_to: input.reply_to ?? null,
        attachments,
      },
      (stored) => encodeRoomEvent('message.created', stored.seq, toMessage(stored)),
    );
    if (row) return { message: toMessage(row), created: true };
    // A concurrent send with the same key won the race; answer with its message.
    const winner = await this.replayOfEarlierSend(actor, roomId, input.client_msg_id);
    if (!winner) throw new ChatError('internal', 'idempotent send lost its first message');
    return winner;
  }

  async history(
    actor: Actor,
    roomId: string,
    query: { before_seq?: number | undefined; after_seq?: number | undefined; limit?: number | undefined },
  ): Promise<Page<Message>> {
    const plan = planHistory(query);
    await this.requireAccess(roomId, actor, 'room.read');
    const { rows, more } = await readHistory(this.db, roomId, plan);
    const edge = plan.direction === 'older' ? rows[0] : rows.at(-1);
    return { items: rows.map(toMessage), next_cursor: more && edge ? String(edge.seq) : null };
  }

  /** The sender deletes their own message; room owners/admins and moderators delete any. */
  async delete(actor: Actor, roomId: string, messageId: string): Promise<Message> {
    const existing = await findMessage(this.db, roomId, messageId);
    const own = existing?.sender_id === actor.user_id;
    const decision = await this.rooms.authorize(roomId, actor, own ? 'message.send' : 'message.moderate');
    if (!decision.allowed) {
      if (!decision.member) throw ChatError.notFound('room');
      throw ChatError.forbidden(
        own ? 'not allowed to delete in this room' : 'only the sender, a room owner or admin, or a moderator deletes a message',
      );
    }
    const result = await softDeleteMessageWithEvent(this.db, roomId, messageId, (row, seq) =>
      encodeRoomEvent('message.deleted', seq, toMessage(row)),
    );
    if (!result) throw ChatError.notFound('message');
    return toMessage(result.row);
  }

  async lastSeq(roomId: string): Promise<number> {
    return readLastSeq(this.db, roomId);
  }

  async getMessage(actor: Actor, roomId: string, messageId: string): Promise<Message> {
    await this.requireAccess(roomId, actor, 'room.read');
    const row = await findMessage(this.db, roomId, messageId);
    if (!row) throw ChatError.notFound('message');
    return toMessage(row);
  }

  async sync(actor: Actor, roomId: string, sinceSeq: number | undefined, maxEvents: number) {
    await this.requireAccess(roomId, actor, 'room.read');
    const window = await readSyncWindow(this.db, roomId, sinceSeq, Math.min(maxEvents, this.options.replayMaxEvents));
    if (sinceSeq !== undefined && sinceSeq > window.lastSeq) {
      throw ChatError.invalid(`since_seq is beyond the room's last seq (${window.lastSeq})`, [
        { path: 'since_seq', message: 'beyond last seq' },
      ]);
    }
    return { last_seq: window.lastSeq, events: window.events, all_published: window.allPublished };
  }

  /** The same key from the same user returns the first message; reusing it in another room is a conflict. */
  private async replayOfEarlierSend(actor: Actor, roomId: string, clientMsgId: string) {
    const existing = await findByClientMsgId(this.db, actor.user_id, clientMsgId);
    if (!existing) return undefined;
    if (existing.room_id !== roomId) {
      throw new ChatError('conflict', 'client_msg_id was already used for a message in another room');
    }
    return { message: toMessage(existing), created: false };
  }

  /** Non-members learn nothing, not even that the room exists. */
  private async requireAccess(roomId: string, actor: Actor, action: RoomAction): Promise<void> {
    const decision = await this.rooms.authorize(roomId, actor, action);
    if (!decision.member) throw ChatError.notFound('room');
    if (!decision.allowed) throw ChatError.forbidden(`not allowed: ${action}`);
  }
}
