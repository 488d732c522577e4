import type { Message } from '@chat/shared';
import { type Kysely, sql } from 'kysely';
import type { RoomsDatabase } from './schema.js';

/**
 * Applies one persisted room event to the rooms read model. Every statement is idempotent and
 * order-insensitive (greatest(), seq comparisons), because JetStream delivers at least once and
 * replicas share the consumer.
 */
export async function applyMessageEvent(
  db: Kysely<RoomsDatabase>,
  event: { type: string; room_id: string; seq: number; message: Message },
): Promise<void> {
  const { message } = event;
  const messageJson = JSON.stringify(message);
  await db.transaction().execute(async (trx) => {
    if (event.type === 'message.created') {
      await trx
        .insertInto('rooms.counted_messages')
        .values({ room_id: message.room_id, seq: message.seq, sender_id: message.sender_id, deleted: message.deleted_at !== null })
        .onConflict((oc) => oc.columns(['room_id', 'seq']).doNothing())
        .execute();
    } else {
      await trx
        .updateTable('rooms.counted_messages')
        .set({ deleted: message.deleted_at !== null })
        .where('room_id', '=', message.room_id)
        .where('seq', '=', message.seq)
        .execute();
    }
    await sql`
      update rooms.rooms set
        last_seq = greatest(last_seq, ${event.seq}::bigint),
        last_message = case when ${message.seq}::bigint >= last_message_seq then ${messageJson} else last_message end,
        last_message_seq = greatest(last_message_seq, ${message.seq}::bigint),
        last_activity_at = case when ${event.type} = 'message.created'
          then greatest(last_activity_at, ${message.created_at}::timestamptz) else last_activity_at end
      where id = ${event.room_id}`.execute(trx);
  });
}
