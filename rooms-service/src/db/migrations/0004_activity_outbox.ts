import { type Kysely, sql } from 'kysely';

/**
 * The room activity outbox: host events (member.added, member.removed, room.updated, room.closed)
 * written in the transaction of the change they announce, and deleted once JetStream has them. A
 * process killed between the commit and JetStream's ack leaves its rows here for the sweep.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table rooms.activity_outbox (
      position bigserial primary key,
      id text not null unique,
      room_id uuid not null,
      type text not null,
      data jsonb not null,
      occurred_at timestamptz not null,
      created_at timestamptz not null default now()
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table rooms.activity_outbox`.execute(db);
}
