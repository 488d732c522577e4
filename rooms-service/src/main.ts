import { exitOnStartupError } from '@chat/shared/ops';
import { messagesRpc } from '@chat/shared/rpc';
import { bootService, runService } from '@chat/shared/service';
import { loadRoomsConfig } from './config.js';
import { roomsMigrations } from './db/migrations/index.js';
import type { RoomsDatabase } from './db/schema.js';
import { MembershipDomain } from './domain/membership.js';
import { ReadStateDomain } from './domain/read-state.js';
import { RoomsDomain } from './domain/rooms.js';
import { runRoomsProjection } from './handlers/projection.js';
import { roomsEndpoints } from './handlers/rpc.js';
import { roomSignalsOverNats } from './handlers/signals.js';

async function main(): Promise<void> {
  const config = loadRoomsConfig();
  const runtime = await bootService<RoomsDatabase>({ service: 'rooms-service', config, schema: 'rooms', migrations: roomsMigrations });
  const { database, nats, rpc, logger } = runtime;

  const signals = roomSignalsOverNats(nats.nc, config.CHAT_NAMESPACE);
  const rooms = new RoomsDomain(database.db, { groupMaxMembers: config.GROUP_MAX_MEMBERS });
  const domains = {
    rooms,
    membership: new MembershipDomain(database.db, rooms, signals, { groupMaxMembers: config.GROUP_MAX_MEMBERS }),
    readState: new ReadStateDomain(database.db, signals, {
      lastSeq: async (roomId) => (await rpc.call(messagesRpc.roomState, { room_id: roomId })).last_seq,
    }),
  };
  const projection = await runRoomsProjection(nats.nc, database.db, config.CHAT_NAMESPACE, logger);

  await runService(runtime, {
    name: 'rooms',
    endpoints: roomsEndpoints(domains),
    port: config.ROOMS_HTTP_PORT,
    stopWork: () => projection.stop(),
  });
}

main().catch((error: unknown) => exitOnStartupError(error));
