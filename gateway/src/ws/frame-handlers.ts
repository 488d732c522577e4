import { ChatError, type ClientFrameOf, type EphemeralEvent, visibleEvent } from '@chat/shared';
import type { Actor } from '@chat/shared/auth';
import type { Logger } from '@chat/shared/logging';
import type { ServicesClient } from '../clients/services-client.js';
import type { IncomingFrame } from './compat-frames.js';
import { PendingSubscriber, type RoomHub } from './room-hub.js';
import { type ChatSocket, sendJson, sendText, withoutItem } from './session.js';
import { writeCorked } from './socket-writer.js';

export interface FrameContext {
  services: ServicesClient;
  hub: RoomHub;
  logger: Logger;
  replayMaxEvents: number;
  /** How long a subscribe waits for the relay to hand over events it replayed from the log. */
  relayWaitMs: number;
  onSend?: (seconds: number) => void;
  /** A subscribe's recovery: `none` (no since_seq), `replayed` with the gap size, or `resync`; and what was replayed. */
  onReplay?: (outcome: 'none' | 'replayed' | 'resync', missed: number, events: number, bytes: number) => void;
  /** Which of the room's members (null: too many to say) have an open socket on any gateway, for the subscribe ack. */
  onlineMembers(memberIds: readonly string[] | null): Promise<string[]>;
  publishSignal(roomId: string, signal: EphemeralEvent): void;
  typingThrottle: { admit(key: string): boolean };
  typingTtlMs: number;
  /** Rooms one socket may be subscribed to (and subscribing to) at once. */
  maxRoomsPerSocket: number;
}

type Ack = Record<string, unknown>;

/** How long a subscribe waits for unpublished events before it asks the log again. */
const RELAY_RECHECK_MS = 250;

/** Answers one request frame; a thrown ChatError becomes an `error` frame for the same id. */
export async function handleFrame(ws: ChatSocket, actor: Actor, frame: IncomingFrame, ctx: FrameContext): Promise<Ack | undefined> {
  switch (frame.type) {
    case 'ping':
      sendJson(ws, { type: 'pong' });
      return {};
    case 'subscribe':
      await subscribe(ws, actor, frame, ctx);
      return undefined; // subscribe acks itself, so the ack precedes the replay
    case 'unsubscribe':
      ctx.hub.detach(ws, frame.room_id);
      return {};
    case 'message.edit':
      return { message: await ctx.services.editMessage(actor, frame.room_id, frame.message_id, frame.body) };
    case 'reaction.add':
    case 'reaction.remove': {
      const action = frame.type === 'reaction.add' ? 'added' : 'removed';
      return { message: await ctx.services.react(actor, frame.room_id, frame.message_id, frame.emoji, action) };
    }
    case 'message.delete':
      return { message: await ctx.services.deleteMessage(actor, frame.room_id, frame.message_id) };
    case 'message.acknowledge':
      return { message: await ctx.services.acknowledge(actor, frame.room_id, frame.message_id) };
    case 'typing':
      await typing(ws, actor, frame.room_id, ctx);
      return {};
    case 'read':
      return ctx.services.markRead(actor, frame.room_id, frame.seq);
    case 'read_receipt': {
      // The earlier systems named a message; the read marker is its seq.
      const message = await ctx.services.getMessage(actor, frame.room_id, frame.message_id);
      return ctx.services.markRead(actor, frame.room_id, message.seq);
    }
    case 'mark_room_read': {
      const lastSeq = (await ctx.services.lastSeqs([frame.room_id])).get(frame.room_id) ?? 0;
      return ctx.services.markRead(actor, frame.room_id, lastSeq);
    }
    case 'message.send': {
      const started = performance.now();
      const { room_id, type: _type, id: _id, ...message } = frame;
      const result = await ctx.services.sendMessage(actor, room_id, message);
      ctx.onSend?.((performance.now() - started) / 1000);
      return { message: result.message };
    }
    default: {
      const unknown: never = frame;
      throw new ChatError('invalid', `unsupported frame ${JSON.stringify(unknown).slice(0, 40)}`);
    }
  }
}

/**
 * Joins the room's channel first, then reads what was missed, so nothing published in between is
 * lost: live events that arrive meanwhile are buffered for this socket and sent after the replay,
 * skipping any the replay already held. The uWS topic subscribe happens last, in the same tick.
 *
 * `backlog` (the compatibility path, DESIGN 10.5) first sends the room's last messages, oldest
 * first, as `message.created` events: read as of the room's last seq, which the channel has
 * already passed, so every live event after it follows (buffered meanwhile) and none before it is
 * sent twice. A message edited or deleted after that seq shows its current state in the backlog
 * and its change event follows, as for any subscriber.
 */
export async function subscribe(
  ws: ChatSocket,
  actor: Actor,
  frame: ClientFrameOf<'subscribe'>,
  ctx: FrameContext,
  backlog = 0,
): Promise<void> {
  const session = ws.getUserData();
  const roomId = frame.room_id;
  if (session.joining?.includes(roomId)) throw new ChatError('conflict', 'a subscribe to this room is already in progress');
  if (session.rooms.includes(roomId)) ctx.hub.detach(ws, roomId);
  else if (session.rooms.length + (session.joining?.length ?? 0) >= ctx.maxRoomsPerSocket) {
    throw new ChatError(
      'conflict',
      `this socket is subscribed to the maximum of ${ctx.maxRoomsPerSocket} rooms; unsubscribe from one first`,
    );
  }
  session.joining = [...(session.joining ?? []), roomId];
  const channel = await ctx.hub.join(roomId);
  // Registered before membership is checked: a removal signal from now on cancels this subscribe.
  const pending = new PendingSubscriber(actor.user_id);
  channel.addPending(pending);
  let joined = false;
  try {
    const memberIds = await channel.memberIds(ctx.hub.memberLists);
    const onlineMembers = ctx.onlineMembers(memberIds);
    onlineMembers.catch(() => undefined); // awaited below; a failed sync must not leave it unhandled
    // Found in the room's member list: the messages service need not ask the rooms service again.
    // Not found is never trusted locally (an add's signal may still be on its way): the services decide.
    // Under joined history the service must also say where the member's view starts.
    const listed = (memberIds?.includes(actor.user_id) ?? false) && channel.historyVisibility === 'shared';
    let sync = await ctx.services.sync(actor, roomId, frame.since_seq, ctx.replayMaxEvents, listed);
    // Events the log holds but the relay had not yet handed to NATS will also arrive live: wait
    // until the channel has seen them, so they are dropped there by seq rather than sent twice.
    // An event published just before this channel listened never comes live, so look again now
    // and then: once the log says everything is published, what was published is already here.
    const waitUntil = performance.now() + ctx.relayWaitMs;
    // The channel may also hold events that came ahead of a gap: wait for it to fan them out in order.
    while ((!sync.all_published || channel.lastSeq < sync.last_seq) && !(await channel.waitForSeq(sync.last_seq, RELAY_RECHECK_MS))) {
      if (performance.now() >= waitUntil) {
        ctx.logger.warn({ room_id: roomId, last_seq: sync.last_seq }, 'relay did not deliver replayed events in time');
        break;
      }
      sync = await ctx.services.sync(actor, roomId, frame.since_seq, ctx.replayMaxEvents, listed);
    }
    const backlogEvents = backlog > 0 && sync.last_seq > 0 ? await backlogOf(actor, roomId, sync.last_seq, backlog, ctx) : [];
    const online = await onlineMembers;
    const visibleFrom = sync.visible_from_seq ?? 0;
    if (session.closed || !session.joining?.includes(roomId)) return;
    // Removed while this subscribe was in flight: the membership it checked no longer holds.
    if (pending.removed) throw ChatError.notFound('room');
    if (frame.since_seq === undefined) ctx.onReplay?.('none', 0, 0, 0);
    else {
      const replayed = sync.events ?? [];
      const bytes = replayed.reduce((sum, event) => sum + Buffer.byteLength(event), 0);
      ctx.onReplay?.(sync.events === null ? 'resync' : 'replayed', sync.last_seq - frame.since_seq, replayed.length, bytes);
    }
    writeCorked(ws, () => {
      for (const event of backlogEvents) sendJson(ws, event);
      sendJson(ws, { type: 'ack', id: frame.id ?? null, data: { room_id: roomId, last_seq: sync.last_seq, online } });
      if (sync.events === null) sendJson(ws, { type: 'resync', room_id: roomId });
      else for (const event of sync.events) sendText(ws, event);
      for (const live of pending.buffer) {
        if (live.seq <= sync.last_seq) continue;
        if (visibleFrom > 0) sendText(ws, visibleEvent(Buffer.from(live.data).toString(), visibleFrom, live.replyToSeq));
        else sendText(ws, live.data);
      }
      ctx.hub.attach(ws, roomId, visibleFrom);
    });
    joined = true;
  } finally {
    channel.removePending(pending);
    session.joining = withoutItem(session.joining, roomId);
    if (!joined) ctx.hub.leave(roomId);
  }
}

/** The room's last `limit` messages up to `lastSeq` (deleted ones left out), as `message.created` events. */
async function backlogOf(actor: Actor, roomId: string, lastSeq: number, limit: number, ctx: FrameContext) {
  const page = await ctx.services.history(actor, roomId, { before_seq: lastSeq + 1, limit });
  return page.items
    .filter((message) => message.deleted_at === null)
    .map((message) => ({ type: 'message.created', room_id: roomId, seq: message.seq, message }));
}

/** Typing goes to the room's other members, at most once per throttle window per user and room. */
async function typing(ws: ChatSocket, actor: Actor, roomId: string, ctx: FrameContext): Promise<void> {
  if (!ws.getUserData().rooms.includes(roomId)) {
    const decision = await ctx.services.authorize(actor, roomId, 'room.read');
    if (!decision.member) throw ChatError.notFound('room');
  }
  await ctx.services.spendTyping(actor);
  if (!ctx.typingThrottle.admit(`${actor.user_id}\u0000${roomId}`)) return;
  ctx.publishSignal(roomId, { type: 'typing', room_id: roomId, user_id: actor.user_id, name: actor.name, ttl_ms: ctx.typingTtlMs });
}
