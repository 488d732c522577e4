import { Kysely, type Migration, type MigrationProvider, Migrator, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';

// bigint columns (seq) come back as numbers: seqs stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number.parseInt(value, 10));

export interface DatabaseHandle<DB> {
  db: Kysely<DB>;
  pool: pg.Pool;
  /** Readiness: one round trip to Postgres. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * How Postgres plans a connection's statements prepared by name. `per-execution` (the default)
 * plans each execution for the tables as they are now: a generic plan made while a table was
 * empty would stay cached as it grows (seq scans). `once` plans a statement once per connection,
 * with table scans priced out (`enable_seqscan=off`: an index is taken wherever one can serve,
 * whatever the statistics say). That does not stop a plan from reading a whole index, so it is
 * only for connections that run nothing but statements whose every lookup is written as a per-row
 * probe of an index (see the send batch).
 */
export type PreparedPlans = 'per-execution' | 'once';

/** The libpq `options` (server settings at connect) for a connection's prepared plans. */
export function planOptions(plans: PreparedPlans): string {
  return plans === 'once' ? '-c plan_cache_mode=force_generic_plan -c enable_seqscan=off' : '-c plan_cache_mode=force_custom_plan';
}

/** A pool whose lost connections are replaced with a warning instead of ending the process. */
export function openPool(
  url: string,
  options: { max: number; applicationName: string; logger: Pick<Logger, 'warn'>; preparedPlans?: PreparedPlans },
): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max,
    application_name: options.applicationName,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 5_000,
    options: planOptions(options.preparedPlans ?? 'per-execution'),
  });
  // A connection that Postgres ends (pg_terminate_backend, a restart, a failover) emits 'error' on
  // its client, and on the pool too while idle; either event unhandled would end the process. A
  // checked-out client (between a transaction's statements) fails its queries and the pool drops
  // it on release; an idle one is dropped at once. New connections replace them: a warning is all.
  pool.on('connect', (client) => {
    client.on('error', (error) => options.logger.warn({ err: error }, 'database connection lost; the pool replaces it'));
  });
  pool.on('error', () => {
    // Already logged by the client's own listener above.
  });
  return pool;
}

export function openDatabase<DB>(
  url: string,
  options: { poolMax: number; applicationName: string; logger: Pick<Logger, 'warn'> },
): DatabaseHandle<DB> {
  const pool = openPool(url, { max: options.poolMax, applicationName: options.applicationName, logger: options.logger });
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    pool,
    async ping() {
      try {
        await pool.query('select 1');
        return true;
      } catch {
        return false;
      }
    },
    close: () => db.destroy(),
  };
}

/**
 * Brings a service's own schema to the latest migration. Kysely takes a Postgres advisory lock and
 * tolerates concurrent creation of its tables, so replicas starting together are safe.
 */
export async function migrateSchema<DB>(
  db: Kysely<DB>,
  schema: string,
  migrations: Record<string, Migration>,
  logger: Logger,
): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => migrations };
  const migrator = new Migrator({
    // The migrator only needs its own tables; it is typed against an unknown schema.
    db: db as unknown as Kysely<unknown>,
    provider,
    migrationTableSchema: schema,
    migrationTableName: 'kysely_migration',
    migrationLockTableName: 'kysely_migration_lock',
    // Numbers are handed out to parallel work in blocks, so a release can bring a migration that
    // sorts before one a database already ran (0003 after 0004); each is independent of the others.
    allowUnorderedMigrations: true,
  });
  const { error, results } = await migrator.migrateToLatest();
  for (const result of results ?? []) {
    if (result.status === 'Success') logger.info({ migration: result.migrationName, schema }, 'migration applied');
    if (result.status === 'Error') logger.error({ migration: result.migrationName, schema }, 'migration failed');
  }
  if (error) throw error;
}
export * from './cursor.js';
export * from './ids-present.js';
export * from './metrics.js';
