import { randomUUID } from 'node:crypto';
import pg from 'pg';

/** An empty database of one test file's own, on the shared Postgres. */
export interface ScratchDatabase {
  name: string;
  url: string;
  /** Waits for the file's connections to go, then drops the database with everything in it. */
  drop(): Promise<void>;
}

async function onAdmin<T extends pg.QueryResultRow>(adminUrl: string, statement: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  return (await client.query<T>(statement, values).finally(() => client.end())).rows;
}

/** The URL of database `name` on the server `adminUrl` points at. */
export function databaseUrlFor(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function createDatabase(adminUrl: string, name: string): Promise<void> {
  await onAdmin(adminUrl, `create database "${name}"`);
}

/** Drops database `name` once its connections are gone (or with force after about 2 s). */
export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  // A pool's end() returns before the server has let its connections go; dropping the database
  // with force meanwhile would fail those closing connections with an unhandled error.
  for (let i = 0; i < 100; i++) {
    const [open] = await onAdmin<{ n: number }>(adminUrl, 'select count(*)::int as n from pg_stat_activity where datname = $1', [name]);
    if (open?.n === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await onAdmin(adminUrl, `drop database if exists "${name}" with (force)`);
}

export async function createScratchDatabase(adminUrl: string, prefix: string): Promise<ScratchDatabase> {
  const name = `${prefix}_${randomUUID().slice(0, 8)}`;
  await createDatabase(adminUrl, name);
  return { name, url: databaseUrlFor(adminUrl, name), drop: () => dropDatabase(adminUrl, name) };
}
