import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table notify.devices (
      token text primary key,
      user_id text not null,
      platform text not null check (platform in ('apns', 'fcm', 'webhook')),
      app_id text,
      registered_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index devices_by_user on notify.devices (user_id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table notify.devices`.execute(db);
}
