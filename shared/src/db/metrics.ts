import type pg from 'pg';
import { declareMetrics, type Registry } from '../ops/metrics.js';

/**
 * The process's connection pool (waiting clients = the pool is too small or Postgres too slow)
 * and the server's connection use, read at each scrape so no separate exporter is needed for the
 * alert on running out of connections.
 */
export function registerPostgresMetrics(registry: Registry, pool: pg.Pool): void {
  const declare = declareMetrics(registry);
  declare.scrapedByLabel(
    'chat_db_pool_connections',
    'Connections of this process pool by state (total, idle, waiting = queries queued for a connection)',
    ['state'],
    (gauge) => {
      gauge.set({ state: 'total' }, pool.totalCount);
      gauge.set({ state: 'idle' }, pool.idleCount);
      gauge.set({ state: 'waiting' }, pool.waitingCount);
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
}
