import { ensureRoomActivityStream, RoomActivityPublisher } from '@chat/shared/nats';
import { exitOnStartupError } from '@chat/shared/ops';
import { bootService, runService } from '@chat/shared/service';
import { messagesClient } from './clients/messages-client.js';
import { loadRoomsConfig } from './config.js';
import { roomsMigrations } from './db/migrations/index.js';
import { SqlRoomsStore } from './db/rooms-store.js';
import type { RoomsDatabase } from './db/schema.js';
import { BlocksDomain } from './domain/blocks.js';
import { MembershipDomain } from './domain/membership.js';
import { ReadStateDomain } from './domain/read-state.js';
import { RoomsDomain } from './domain/rooms.js';
import { runRoomsProjection } from './handlers/projection.js';
import { roomsEndpoints } from './handlers/rpc.js';
import { roomSignalsOverNats, runActivitySweep } from './handlers/signals.js';
import { registerRoomsMetrics } from './metrics.js';

async function main(): Promise<void> {
  const config = loadRoomsConfig();
  const runtime = await bootService<RoomsDatabase>({ service: 'rooms-service', config, schema: 'rooms', migrations: roomsMigrations });
  const { database, nats, rpc, logger, registry } = runtime;
  registerRoomsMetrics(registry, nats.nc, config.CHAT_NAMESPACE);

  await ensureRoomActivityStream(await nats.nc.jetstreamManager(), config.CHAT_NAMESPACE, config.NATS_STREAM_REPLICAS);
  const activity = new RoomActivityPublisher(nats.nc, config.CHAT_NAMESPACE, logger, { replicas: config.NATS_STREAM_REPLICAS });
  const store = new SqlRoomsStore(database.db);
  const signals = roomSignalsOverNats(nats.nc, config.CHAT_NAMESPACE, activity, store, logger);
  // Host events a killed process committed but never got into JetStream.
  const sweep = runActivitySweep(store, signals, {
    everyMs: config.ACTIVITY_OUTBOX_SWEEP_MS,
    olderThanMs: config.ACTIVITY_OUTBOX_SWEEP_MS,
    logger,
  });
  const rooms = new RoomsDomain(store, { groupMaxMembers: config.GROUP_MAX_MEMBERS });
  const sequences = messagesClient(rpc);
  const domains = {
    rooms,
    membership: new MembershipDomain(store, rooms, signals, { groupMaxMembers: config.GROUP_MAX_MEMBERS }, sequences),
    readState: new ReadStateDomain(store, signals, sequences),
    blocks: new BlocksDomain(store, signals),
  };
  const projection = await runRoomsProjection(nats.nc, database.db, config.CHAT_NAMESPACE, logger, config.NATS_STREAM_REPLICAS);

  await runService(runtime, {
    name: 'rooms',
    endpoints: roomsEndpoints(domains),
    port: config.ROOMS_HTTP_PORT,
    stopWork: async () => {
      await projection.stop();
      await sweep.stop();
      // Requests in flight have finished: what they recorded goes to JetStream before the exit.
      await activity.drain();
    },
  });
}

main().catch((error: unknown) => exitOnStartupError(error));
