import { type Kysely, sql } from 'kysely';

/**
 * The push ledger. `push_due`: what is due to which device for which message, written before the
 * message event is acknowledged. `push_batches`: one coalesced notification for one device, the
 * unit of delivery (its id is the `webhook-id` / delivery id on every attempt). `push_deliveries`:
 * the device's record of what it was given, one row per (device, message), so nothing is sent twice.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table notify.push_due (
      device_token text not null,
      message_id text not null,
      user_id text not null,
      room_id text not null,
      seq bigint not null,
      due_at timestamptz not null,
      lease_until timestamptz not null,
      batch_id text,
      traceparent text,
      created_at timestamptz not null default now(),
      primary key (device_token, message_id)
    )`.execute(db);
  await sql`create index push_due_open on notify.push_due (user_id, room_id) where batch_id is null`.execute(db);
  await sql`create index push_due_lease on notify.push_due (lease_until) where batch_id is null`.execute(db);
  await sql`create index push_due_age on notify.push_due (created_at)`.execute(db);
  await sql`
    create table notify.push_batches (
      id text primary key,
      device_token text not null,
      user_id text not null,
      room_id text not null,
      platform text not null,
      app_id text,
      message_ids text[] not null,
      notification jsonb not null,
      state text not null default 'pending' check (state in ('pending', 'delivered', 'dropped', 'dead')),
      attempts integer not null default 0,
      lease_until timestamptz not null,
      traceparent text,
      last_error text,
      created_at timestamptz not null default now(),
      finished_at timestamptz
    )`.execute(db);
  await sql`create index push_batches_pending on notify.push_batches (lease_until) where state = 'pending'`.execute(db);
  await sql`create index push_batches_finished on notify.push_batches (finished_at) where state <> 'pending'`.execute(db);
  await sql`
    create table notify.push_deliveries (
      device_token text not null,
      message_id text not null,
      batch_id text not null,
      delivered_at timestamptz not null default now(),
      primary key (device_token, message_id)
    )`.execute(db);
  await sql`create index push_deliveries_age on notify.push_deliveries (delivered_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table notify.push_deliveries`.execute(db);
  await sql`drop table notify.push_batches`.execute(db);
  await sql`drop table notify.push_due`.execute(db);
}
