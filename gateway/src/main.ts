import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EphemeralEvent } from '@chat/shared';
import { createTokenVerifier, resolveAuthSettings } from '@chat/shared/auth';
import { createLogger } from '@chat/shared/logging';
import { connectNats, publishRoomSignal, RpcClient, registerNatsClientMetrics } from '@chat/shared/nats';
import {
  closeServer,
  createMetricsRegistry,
  createRpcClientMetrics,
  exitOnStartupError,
  listen,
  type OpsState,
  onShutdownSignal,
  readinessGrace,
  shutdownSteps,
  startOpsServer,
} from '@chat/shared/ops';
import { PresenceRegistry } from '@chat/shared/presence';
import { telemetry } from '@chat/shared/telemetry';
import { Redis } from 'ioredis';
import { BlobSweeper } from './attachments/blob-sweeper.js';
import { openBlobStore } from './attachments/open-blob-store.js';
import { CallCoalescer } from './clients/coalesce.js';
import { NameBook } from './clients/name-book.js';
import { ServicesClient } from './clients/services-client.js';
import { loadGatewayConfig, rateLimitOf } from './config.js';
import { onlineHereFirst, onlineMembersOf } from './domain/presence.js';
import { LocalTokenBuckets } from './limits/local-token-bucket.js';
import { RateLimits } from './limits/rate-limits.js';
import { RedisTokenBuckets } from './limits/token-bucket.js';
import { LeasedTokenBuckets } from './limits/token-lease.js';
import { createGatewayMetrics } from './metrics.js';
import { createRestApp } from './rest/app.js';
import { loadNativeUws } from './uws.js';
import { PresenceTracker } from './ws/presence-tracker.js';
import { RoomHub } from './ws/room-hub.js';
import { observeSocketFaults } from './ws/socket-faults.js';
import { SocketServer } from './ws/socket-server.js';
import { WindowThrottle } from './ws/throttle.js';

const SERVICE = 'gateway';
const VERSION = process.env.npm_package_version ?? '0.1.0';

async function main(): Promise<void> {
  const uws = loadNativeUws();
  const config = loadGatewayConfig();
  const logger = createLogger({ service: SERVICE, version: VERSION, level: config.LOG_LEVEL });
  const auth = resolveAuthSettings(config);
  if (auth.usingDevSecret) {
    logger.warn(
      'CHAT_DEV_MODE=1 and no JWT key: using the built-in DEVELOPMENT secret. Anyone can mint tokens. Never run like this in production.',
    );
  }
  const verifier = createTokenVerifier(auth);

  const registry = createMetricsRegistry(SERVICE);
  const metrics = createGatewayMetrics(registry);
  observeSocketFaults((reason, error) => {
    metrics.socketFault(reason);
    logger.warn({ err: error, reason }, 'socket fault caught');
  });

  // A connect burst's subscribes (one uWS callback each) leave in one NATS write per turn.
  const nats = await connectNats(config.NATS_URL, `${config.CHAT_NAMESPACE}-${SERVICE}`, logger, { flushAtTurnEnd: true });
  registerNatsClientMetrics(registry, nats.nc);

  // Auto-pipelining: commands issued in one turn of the loop (rate-limit spends, presence) share one write.
  const redis = new Redis(config.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 2, enableAutoPipelining: true });
  redis.on('error', (error) => logger.warn({ err: error }, 'redis error'));
  await redis.connect();
  const buckets = new LeasedTokenBuckets(new RedisTokenBuckets(redis, config.CHAT_NAMESPACE, randomUUID()), {
    leaseMs: config.RATE_LIMIT_LEASE_MS,
    maxLease: config.RATE_LIMIT_LEASE_MAX,
  });
  const limits = new RateLimits(
    buckets,
    {
      send: rateLimitOf(config, 'SENDS'),
      edit: rateLimitOf(config, 'EDITS'),
      reaction: rateLimitOf(config, 'REACTIONS'),
      typing: rateLimitOf(config, 'TYPING'),
      upload: rateLimitOf(config, 'UPLOADS'),
      room_create: rateLimitOf(config, 'ROOM_CREATES'),
      search: rateLimitOf(config, 'SEARCHES'),
      device_register: rateLimitOf(config, 'DEVICE_REGISTRATIONS'),
    },
    logger,
    metrics.rateLimitDecision,
  );
  const services = new ServicesClient(
    new RpcClient(nats.nc, config.CHAT_NAMESPACE, { timeoutMs: config.RPC_TIMEOUT_MS, onCallDone: createRpcClientMetrics(registry) }),
    limits,
  );
  const presenceRegistry = new PresenceRegistry(redis, config.CHAT_NAMESPACE, config.PRESENCE_TTL_MS);
  const publishSignal = (roomId: string, signal: EphemeralEvent) => publishRoomSignal(nats.nc, config.CHAT_NAMESPACE, roomId, signal);
  // Users coming online (or going) in one turn of the loop are looked up in one call.
  const userRooms = new CallCoalescer<string, string[]>((ids) => services.userRoomIds(ids, config.PRESENCE_MAX_ROOM_MEMBERS), 1000);
  // Subscribes in one turn of the loop ask the registry who is online in one round trip.
  const onlineNow = new CallCoalescer<string, boolean>(async (ids) => {
    const online = new Set(await presenceRegistry.onlineAmong(ids));
    return new Map(ids.map((id) => [id, online.has(id)]));
  }, 5000);
  const presence = new PresenceTracker({
    registry: presenceRegistry,
    gatewayId: config.GATEWAY_ID,
    renewEveryMs: Math.floor(config.PRESENCE_TTL_MS / 3),
    logger,
    roomIdsOf: (userId) => userRooms.get(userId),
    publishSignal,
    localUsers: () => sockets.users(),
  });
  presence.start();
  const names = new NameBook((actors) => services.rememberUsers(actors), logger);

  const app = uws.App();
  // Rooms whose channels open in the same turn of the loop (a connect burst) ask for their start once.
  const roomStarts = new CallCoalescer<string, number>((roomIds) => services.lastSeqs(roomIds), 1000);
  const hub = new RoomHub(
    nats.nc,
    app,
    config.CHAT_NAMESPACE,
    logger,
    metrics.hub,
    {
      load: (roomId, maxMembers) => services.roomMembers(roomId, maxMembers),
      maxMembers: config.ROOM_MEMBER_LIST_MAX,
      ttlMs: config.ROOM_MEMBER_LIST_TTL_MS,
      onError: (error, roomId) => logger.warn({ err: error, room_id: roomId }, 'room member list unavailable; asking per subscribe'),
    },
    {
      lastSeq: (roomId) => roomStarts.get(roomId),
      eventsAfter: (roomId, afterSeq, limit) => services.roomLog(roomId, afterSeq, limit),
      holdMs: config.ROOM_EVENT_HOLD_MS,
    },
  );
  const sockets = new SocketServer(
    uws,
    app,
    {
      port: config.GATEWAY_WS_PORT,
      host: config.GATEWAY_HOST,
      allowedOrigins: config.ALLOWED_ORIGINS,
      maxFrameBytes: config.WS_MAX_FRAME_BYTES,
      heartbeatMs: config.WS_HEARTBEAT_MS,
      maxBufferedBytes: config.WS_MAX_BUFFERED_BYTES,
      rateLimitCloseAfter: config.RATE_LIMIT_CLOSE_AFTER,
      maxFramesInFlight: config.WS_MAX_FRAMES_IN_FLIGHT,
      maxSocketsPerUser: config.WS_MAX_SOCKETS_PER_USER,
      connectsPerAddress: new LocalTokenBuckets(rateLimitOf(config, 'CONNECTS_PER_ADDRESS')),
      connectsPerUser: new LocalTokenBuckets(rateLimitOf(config, 'CONNECTS')),
      clientAddressHeader: config.CLIENT_ADDRESS_HEADER,
      verifier,
      logger,
      metrics: metrics.sockets,
      onConnected: (actor, firstSocket) => {
        if (firstSocket) presence.claim(actor.user_id);
        names.remember(actor);
      },
      onDisconnected: (userId, lastSocket) => {
        if (lastSocket) presence.release(userId);
      },
    },
    {
      services,
      hub,
      logger,
      replayMaxEvents: config.REPLAY_MAX_EVENTS,
      relayWaitMs: 5000,
      onSend: metrics.sendDone,
      onReplay: metrics.subscribeRecovered,
      onlineMembers: onlineMembersOf(
        onlineHereFirst(
          // Typed: `sockets` is built from these options, and inference would otherwise go round in a circle.
          (id): boolean => sockets.hasUser(id),
          (id) => onlineNow.get(id),
        ),
        config.PRESENCE_MAX_ROOM_MEMBERS,
      ),
      publishSignal,
      typingThrottle: new WindowThrottle(config.TYPING_THROTTLE_MS),
      typingTtlMs: config.TYPING_TTL_MS,
      maxRoomsPerSocket: config.WS_MAX_ROOMS_PER_SOCKET,
    },
  );
  const wsPort = await sockets.listen();

  const ops: OpsState = {
    registry,
    shuttingDown: false,
    checks: [
      { name: 'nats', ok: () => nats.isConnected() },
      { name: 'redis', ok: () => redis.status === 'ready' },
    ],
  };
  const blobs = openBlobStore(config);
  const blobSweeper = new BlobSweeper(services, blobs, logger, {
    intervalMs: config.ATTACHMENT_SWEEP_MS,
    onDeleted: metrics.blobSwept,
  });
  blobSweeper.start();
  const uploadLimits = {
    maxBytes: config.ATTACHMENT_MAX_BYTES,
    allowedTypes: config.ATTACHMENT_ALLOWED_TYPES,
    tempDir: join(tmpdir(), 'chat-gateway-uploads'),
    maxPixels: config.ATTACHMENT_MAX_PIXELS,
  };
  const rest = createRestApp({
    attachments: { blobs, limits: uploadLimits },
    web: {
      publicDir: fileURLToPath(new URL('./public', import.meta.url)),
      publicWsUrl: config.PUBLIC_WS_URL,
      wsPort,
      attachmentMaxBytes: config.ATTACHMENT_MAX_BYTES,
      devSigner: auth.usingDevSecret ? { secret: auth.key, issuer: auth.issuer, audience: auth.audience } : undefined,
    },
    services,
    verifier,
    ops,
    rateLimits: limits,
    allowedOrigins: config.ALLOWED_ORIGINS,
    logger,
    maxBodyBytes: config.REST_MAX_BODY_BYTES,
    onActor: (actor) => names.remember(actor),
  });
  const http = await listen(rest, config.GATEWAY_HTTP_PORT, config.GATEWAY_HOST);
  const httpPort = (http.address() as { port: number }).port;
  const opsServer = await startOpsServer(config.GATEWAY_OPS_PORT, ops, logger, config.GATEWAY_HOST);
  logger.info({ ws_port: wsPort, http_port: httpPort, ops_port: opsServer.port, namespace: config.CHAT_NAMESPACE }, 'gateway ready');

  onShutdownSignal(logger, config.SHUTDOWN_TIMEOUT_MS, async () => {
    const step = shutdownSteps(logger);
    ops.shuttingDown = true;
    await step('readiness grace', () => readinessGrace(config.SHUTDOWN_READINESS_DELAY_MS));
    sockets.stopListening();
    // Leave part of the hard timeout for what follows the drain.
    const drainDeadline = Date.now() + config.SHUTDOWN_DRAIN_WINDOW_MS + Math.max(500, Math.floor(config.SHUTDOWN_TIMEOUT_MS / 4));
    await step('sockets closed', () => sockets.closeAll(config.SHUTDOWN_DRAIN_WINDOW_MS, drainDeadline));
    await step('http closed', () => closeServer(http));
    await step('blob sweeper stopped', () => blobSweeper.stop());
    // The closed sockets' users go offline (and are announced) while NATS is still there.
    await step('presence settled', () => presence.settle());
    presence.stop();
    await step('nats drained', () => nats.nc.drain());
    await step('redis closed', () => redis.quit());
    await step('ops server closed', () => opsServer.close());
    await step('telemetry flushed', () => telemetry().shutdown());
  });
}

main().catch((error: unknown) => exitOnStartupError(error));
