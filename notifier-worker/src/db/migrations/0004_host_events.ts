import { type Kysely, sql } from 'kysely';

/**
 * The event webhook's queue (DESIGN 10.4): one row per event for the host application, written
 * before its JetStream message is acknowledged. Delivered per lane (a room's persisted events in
 * seq order, its activity in stream order), one head at a time; `id` is the payload id and the
 * `webhook-id` of every attempt. `dead` rows are the dead letters, kept until replayed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table notify.host_events (
      id text primary key,
      room_id text not null,
      lane text not null check (lane in ('log', 'activity')),
      ordinal bigint not null,
      type text not null,
      payload text not null,
      state text not null default 'pending' check (state in ('pending', 'delivered', 'dead')),
      attempts integer not null default 0,
      next_attempt_at timestamptz not null default now(),
      lease_until timestamptz,
      last_error text,
      created_at timestamptz not null default now(),
      finished_at timestamptz
    )`.execute(db);
  // The head of each lane: the pending row with the lowest ordinal.
  await sql`create index host_events_lanes on notify.host_events (room_id, lane, ordinal) where state = 'pending'`.execute(db);
  await sql`create index host_events_finished on notify.host_events (finished_at) where state = 'delivered'`.execute(db);
  await sql`create index host_events_dead on notify.host_events (finished_at) where state = 'dead'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table notify.host_events`.execute(db);
}
