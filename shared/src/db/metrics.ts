import type pg from 'pg';
import { Gauge, type Registry } from '../ops/metrics.js';

/**
 * The process's connection pool (waiting clients = the pool is too small or Postgres too slow)
 * and the server's connection use, read at each scrape so no separate exporter is needed for the
 * alert on running out of connections.
 */
export function registerPostgresMetrics(registry: Registry, pool: pg.Pool): void {
  new Gauge({
    name: 'chat_db_pool_connections',
    help: 'Connections of this process pool by state (total, idle, waiting = queries queued for a connection)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.set({ state: 'total' }, pool.totalCount);
      this.set({ state: 'idle' }, pool.idleCount);
      this.set({ state: 'waiting' }, pool.waitingCount);
    },
  });
  let server: Promise<{ used: number; max: number } | undefined> | undefined;
  const readServer = () => {
    server ??= pool
      .query<{ used: number; max: number }>(
        "select count(*)::int as used, current_setting('max_connections')::int as max from pg_stat_activity",
      )
      .then(
        ({ rows }) => rows[0],
        () => undefined,
      )
      .finally(() => {
        server = undefined;
      });
    return server;
  };
  const used = new Gauge({
    name: 'chat_postgres_connections',
    help: 'Connections open on the Postgres server (all clients)',
    registers: [registry],
    async collect() {
      const row = await readServer();
      if (row) used.set(row.used);
    },
  });
  const max = new Gauge({
    name: 'chat_postgres_max_connections',
    help: 'The Postgres server max_connections setting',
    registers: [registry],
    async collect() {
      const row = await readServer();
      if (row) max.set(row.max);
    },
  });
}
