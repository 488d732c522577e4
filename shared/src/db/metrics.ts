import type pg from 'pg';
import { declareMetrics, type Registry } from '../ops/metrics.js';

/** More pools of the process to report beside its main one (the messages service's send pool). */
export interface PoolMetrics {
  observePool(name: string, pool: pg.Pool): void;
}

/**
 * The process's connection pools (waiting clients = the pool is too small or Postgres too slow)
 * and the server's connection use, read at each scrape so no separate exporter is needed for the
 * alert on running out of connections. `pool` is the main pool, labelled `main`.
 */
export function registerPostgresMetrics(registry: Registry, pool: pg.Pool): PoolMetrics {
  const declare = declareMetrics(registry);
  const pools = new Map<string, pg.Pool>([['main', pool]]);
  declare.scrapedByLabel(
    'chat_db_pool_connections',
    'Connections of each pool of this process by state (total, idle, waiting = queries queued for a connection)',
    ['pool', 'state'],
    (gauge) => {
      for (const [name, each] of pools) {
        gauge.set({ pool: name, state: 'total' }, each.totalCount);
        gauge.set({ pool: name, state: 'idle' }, each.idleCount);
        gauge.set({ pool: name, state: 'waiting' }, each.waitingCount);
      }
    },
  );
  // One query serves both gauges of a scrape.
  let server: Promise<{ used: number; max: number } | undefined> | undefined;
  const readServer = () => {
    server ??= pool
      .query<{ used: number; max: number }>(
        "select count(*)::int as used, current_setting('max_connections')::int as max from pg_stat_activity",
      )
      .then(({ rows }) => rows[0])
      .finally(() => {
        server = undefined;
      });
    return server;
  };
  declare.scraped(
    'chat_postgres_connections',
    'Connections open on the Postgres server (all clients)',
    async () => (await readServer())?.used,
  );
  declare.scraped('chat_postgres_max_connections', 'The Postgres server max_connections setting', async () => (await readServer())?.max);
  return { observePool: (name, more) => pools.set(name, more) };
}
