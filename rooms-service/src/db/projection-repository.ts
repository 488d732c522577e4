import type { RoomEvent } from '@chat/shared';
import { type Kysely, sql } from 'kysely';
import type { RoomsDatabase } from './schema.js';

/** What the read model takes from a room event (every persisted event carries the message). */
export type ProjectedEvent = Pick<RoomEvent, 'type' | 'room_id' | 'seq' | 'message'>;

/**
 * Applies a batch of persisted room events to the rooms read model in one statement (one round
 * trip, one commit). Every part is idempotent and order-insensitive (greatest(), seq comparisons),
 * because JetStream delivers at least once, in any grouping, and replicas share the consumer.
 */
export async function applyMessageEvents(db: Kysely<RoomsDatabase>, events: ProjectedEvent[]): Promise<void> {
  if (events.length === 0) return;
  const rows = events.map((event) => ({
    type: event.type,
    room_id: event.room_id,
    seq: event.seq,
    message_seq: event.message.seq,
    sender_id: event.message.sender_id,
    deleted: event.message.deleted_at !== null,
    created_at: event.message.created_at,
    message: JSON.stringify(event.message),
  }));
  await sql`
    with input as (
      select * from json_to_recordset(${JSON.stringify(rows)}::json) as t(
        type text, room_id uuid, seq bigint, message_seq bigint, sender_id text, deleted boolean,
        created_at timestamptz, message text)
    ),
    -- A delete is final, so a message created and deleted in the same batch is counted as deleted.
    counted as (
      insert into rooms.counted_messages (room_id, seq, sender_id, deleted)
      select distinct on (i.room_id, i.message_seq) i.room_id, i.message_seq, i.sender_id,
        exists (select 1 from input d where d.room_id = i.room_id and d.message_seq = i.message_seq and d.deleted)
      from input i where i.type = 'message.created'
      on conflict (room_id, seq) do update set deleted = rooms.counted_messages.deleted or excluded.deleted
    ),
    latest as (
      select distinct on (room_id) room_id, message_seq, message from input order by room_id, message_seq desc, seq desc
    ),
    per_room as (
      select room_id, max(seq) as last_seq,
        max(created_at) filter (where type = 'message.created') as activity
      from input group by room_id
    ),
    changed as (
      update rooms.counted_messages c set deleted = true
      from (select distinct room_id, message_seq from input where deleted and type <> 'message.created') d
      where c.room_id = d.room_id and c.seq = d.message_seq and not c.deleted
    )
    update rooms.rooms r set
      last_seq = greatest(r.last_seq, p.last_seq),
      last_message = case when l.message_seq >= r.last_message_seq then l.message else r.last_message end,
      last_message_seq = greatest(r.last_message_seq, l.message_seq),
      last_activity_at = case when p.activity is null then r.last_activity_at else greatest(r.last_activity_at, p.activity) end
    from per_room p join latest l using (room_id)
    where r.id = p.room_id`.execute(db);
}
