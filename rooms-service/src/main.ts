import { migrateSchema, openDatabase } from '@chat/shared/db';
import { createLogger } from '@chat/shared/logging';
import { connectNats, ensureRoomEventStream, RpcClient, serveEndpoints } from '@chat/shared/nats';
import {
  createMetricsRegistry,
  createRpcClientMetrics,
  createRpcMetrics,
  exitOnStartupError,
  onShutdownSignal,
  readinessGrace,
  serviceOpsState,
  startOpsServer,
} from '@chat/shared/ops';
import { messagesRpc } from '@chat/shared/rpc';
import { telemetry } from '@chat/shared/telemetry';
import { loadRoomsConfig } from './config.js';
import { roomsMigrations } from './db/migrations/index.js';
import type { RoomsDatabase } from './db/schema.js';
import { MembershipDomain } from './domain/membership.js';
import { ReadStateDomain } from './domain/read-state.js';
import { RoomsDomain } from './domain/rooms.js';
import { runRoomsProjection } from './handlers/projection.js';
import { roomsEndpoints } from './handlers/rpc.js';
import { roomSignalsOverNats } from './handlers/signals.js';

const SERVICE = 'rooms-service';
const VERSION = process.env.npm_package_version ?? '0.1.0';

async function main(): Promise<void> {
  const config = loadRoomsConfig();
  const logger = createLogger({ service: SERVICE, version: VERSION, level: config.LOG_LEVEL });
  const registry = createMetricsRegistry(SERVICE);
  const rpcMetrics = createRpcMetrics(registry);

  const database = openDatabase<RoomsDatabase>(config.DATABASE_URL, { poolMax: config.DATABASE_POOL_MAX, applicationName: SERVICE });
  await migrateSchema(database.db, 'rooms', roomsMigrations, logger);
  const nats = await connectNats(config.NATS_URL, `${config.CHAT_NAMESPACE}-${SERVICE}`, logger);
  await ensureRoomEventStream(await nats.nc.jetstreamManager(), config.CHAT_NAMESPACE);

  const rpc = new RpcClient(nats.nc, config.CHAT_NAMESPACE, {
    timeoutMs: config.RPC_TIMEOUT_MS,
    onCallDone: createRpcClientMetrics(registry),
  });
  const signals = roomSignalsOverNats(nats.nc, config.CHAT_NAMESPACE);
  const rooms = new RoomsDomain(database.db, { groupMaxMembers: config.GROUP_MAX_MEMBERS });
  const domains = {
    rooms,
    membership: new MembershipDomain(database.db, rooms, signals, { groupMaxMembers: config.GROUP_MAX_MEMBERS }),
    readState: new ReadStateDomain(database.db, signals, {
      lastSeq: async (roomId) => (await rpc.call(messagesRpc.roomState, { room_id: roomId })).last_seq,
    }),
  };
  const endpoints = await serveEndpoints(
    nats.nc,
    {
      namespace: config.CHAT_NAMESPACE,
      service: 'rooms',
      version: VERSION,
      logger,
      onRequestDone: rpcMetrics.observe,
    },
    roomsEndpoints(domains),
  );
  const projection = await runRoomsProjection(nats.nc, database.db, config.CHAT_NAMESPACE, logger);

  const ops = serviceOpsState(registry, { natsConnected: nats.isConnected, databaseReachable: database.ping });
  const opsServer = await startOpsServer(config.ROOMS_HTTP_PORT, ops, logger);
  logger.info({ namespace: config.CHAT_NAMESPACE }, 'rooms service ready');

  onShutdownSignal(logger, config.SHUTDOWN_TIMEOUT_MS, async () => {
    ops.shuttingDown = true;
    await readinessGrace(config.SHUTDOWN_READINESS_DELAY_MS);
    await endpoints.stop();
    await projection.stop();
    await nats.nc.drain();
    await database.close();
    await opsServer.close();
    await telemetry().shutdown();
  });
}

main().catch((error: unknown) => exitOnStartupError(undefined, error));
