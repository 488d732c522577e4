import type { Migration } from 'kysely';
import type pg from 'pg';
import { type DatabaseHandle, migrateSchema, openDatabase, registerPostgresMetrics } from '../db/index.js';
import { createLogger, type Logger } from '../logging/index.js';
import {
  connectNats,
  type Endpoint,
  type EndpointHandler,
  ensureRoomEventStreamWhenReady,
  type NatsLink,
  RpcClient,
  registerNatsClientMetrics,
  serveEndpoints,
} from '../nats/index.js';
import {
  createMetricsRegistry,
  createRpcClientMetrics,
  createRpcMetrics,
  onShutdownSignal,
  type ReadinessCheck,
  type Registry,
  readinessGrace,
  serviceOpsState,
  startOpsServer,
} from '../ops/index.js';
import { telemetry } from '../telemetry/index.js';

/** The variables every database-backed service reads (see config/commonEnvShape and databaseEnvShape). */
export interface ServiceEnv {
  LOG_LEVEL: string;
  CHAT_NAMESPACE: string;
  NATS_URL: string[];
  NATS_STREAM_REPLICAS: number;
  DATABASE_URL: string;
  DATABASE_POOL_MAX: number;
  RPC_TIMEOUT_MS: number;
  SHUTDOWN_TIMEOUT_MS: number;
  SHUTDOWN_READINESS_DELAY_MS: number;
}

/** What a service's wiring builds on: its logger, metrics, migrated database, NATS and RPC client. */
export interface ServiceRuntime<DB> {
  service: string;
  version: string;
  config: ServiceEnv;
  logger: Logger;
  registry: Registry;
  database: DatabaseHandle<DB>;
  nats: NatsLink;
  rpc: RpcClient;
  /** Reports another connection pool of the process in `chat_db_pool_connections{pool=…}`. */
  observePool(name: string, pool: pg.Pool): void;
}

/**
 * Starts the shared part of a service: logger and metrics, its own schema migrated, NATS connected
 * and the room event stream ensured (whichever process starts first creates it), an RPC client.
 */
export async function bootService<DB>(options: {
  service: string;
  config: ServiceEnv;
  schema: string;
  migrations: Record<string, Migration>;
  /** Runs right after the logger exists (e.g. to report configured providers). */
  announce?: (logger: Logger) => void;
}): Promise<ServiceRuntime<DB>> {
  const { service, config } = options;
  const version = process.env.npm_package_version ?? '0.1.0';
  const logger = createLogger({ service, version, level: config.LOG_LEVEL });
  options.announce?.(logger);
  const registry = createMetricsRegistry(service);
  const database = openDatabase<DB>(config.DATABASE_URL, { poolMax: config.DATABASE_POOL_MAX, applicationName: service, logger });
  await migrateSchema(database.db, options.schema, options.migrations, logger);
  const nats = await connectNats(config.NATS_URL, `${config.CHAT_NAMESPACE}-${service}`, logger);
  await ensureRoomEventStreamWhenReady(nats.nc, config.CHAT_NAMESPACE, { replicas: config.NATS_STREAM_REPLICAS, logger });
  const poolMetrics = registerPostgresMetrics(registry, database.pool);
  registerNatsClientMetrics(registry, nats.nc);
  const rpc = new RpcClient(nats.nc, config.CHAT_NAMESPACE, {
    timeoutMs: config.RPC_TIMEOUT_MS,
    onCallDone: createRpcClientMetrics(registry),
  });
  return { service, version, config, logger, registry, database, nats, rpc, observePool: poolMetrics.observePool };
}

/**
 * Serves the service's NATS endpoints and its ops port, logs "<name> service ready", and on
 * SIGTERM: readiness fails first, then (after the grace) endpoints stop taking requests and finish
 * those in flight, `stopWork` stops the service's own consumers and workers, NATS drains,
 * the database closes, then `release` frees anything left (Redis), the ops port and telemetry.
 */
export async function runService<DB>(
  runtime: ServiceRuntime<DB>,
  options: {
    name: string;
    endpoints: EndpointHandler[];
    port: number;
    checks?: ReadinessCheck[];
    onRequestDone?: (endpoint: Endpoint, outcome: string, seconds: number) => void;
    stopWork?: () => Promise<void>;
    release?: () => Promise<void>;
  },
): Promise<void> {
  const { config, logger, nats, database } = runtime;
  const rpcMetrics = createRpcMetrics(runtime.registry);
  const endpoints = await serveEndpoints(
    nats.nc,
    {
      namespace: config.CHAT_NAMESPACE,
      service: options.name,
      version: runtime.version,
      logger,
      onRequestDone: (endpoint, outcome, seconds) => {
        rpcMetrics.observe(endpoint, outcome, seconds);
        options.onRequestDone?.(endpoint, outcome, seconds);
      },
    },
    options.endpoints,
  );
  const ops = serviceOpsState(runtime.registry, { natsConnected: nats.isConnected, databaseReachable: database.ping });
  ops.checks.push(...(options.checks ?? []));
  const opsServer = await startOpsServer(options.port, ops, logger);
  logger.info({ namespace: config.CHAT_NAMESPACE }, `${options.name} service ready`);

  onShutdownSignal(logger, config.SHUTDOWN_TIMEOUT_MS, async () => {
    ops.shuttingDown = true;
    await readinessGrace(config.SHUTDOWN_READINESS_DELAY_MS);
    await endpoints.stop();
    await options.stopWork?.();
    await nats.nc.drain();
    await database.close();
    await options.release?.();
    await opsServer.close();
    await telemetry().shutdown();
  });
}
