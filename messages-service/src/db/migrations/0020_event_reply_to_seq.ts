import { type Kysely, sql } from 'kysely';

/**
 * The seq of the message an event's message replies to, beside the event: a gateway strips
 * `reply_to` for a late joiner who may not see that message (joined history, DESIGN 10.3)
 * without looking it up. Null for events of messages that reply to nothing, and for older rows.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table messages.room_events add column reply_to_seq bigint`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table messages.room_events drop column reply_to_seq`.execute(db);
}
