import { createTokenVerifier, resolveAuthSettings } from '@chat/shared/auth';
import { createLogger } from '@chat/shared/logging';
import { connectNats, RpcClient } from '@chat/shared/nats';
import {
  Counter,
  closeServer,
  createMetricsRegistry,
  exitOnStartupError,
  Gauge,
  Histogram,
  listen,
  type OpsState,
  onShutdownSignal,
} from '@chat/shared/ops';
import { loadGatewayConfig } from './config.js';
import { createRestApp } from './rest/app.js';
import { Upstream } from './upstream/services.js';
import { loadNativeUws } from './uws.js';
import { RoomHub } from './ws/room-hub.js';
import { SocketServer } from './ws/socket-server.js';

const SERVICE = 'gateway';
const VERSION = process.env.npm_package_version ?? '0.1.0';

async function main(): Promise<void> {
  const uws = loadNativeUws();
  const config = loadGatewayConfig();
  const logger = createLogger({ service: SERVICE, version: VERSION, level: config.LOG_LEVEL });
  const auth = resolveAuthSettings(config);
  if (auth.usingDevSecret) {
    logger.warn('JWT_SECRET is not set: using the built-in DEVELOPMENT secret. Anyone can mint tokens. Never run like this in production.');
  }
  const verifier = createTokenVerifier(auth);

  const registry = createMetricsRegistry(SERVICE);
  const connections = new Gauge({ name: 'chat_gateway_connections', help: 'Open authenticated sockets', registers: [registry] });
  const roomChannels = new Gauge({
    name: 'chat_gateway_room_subscriptions',
    help: 'Rooms with a NATS subscription on this gateway',
    registers: [registry],
  });
  const framesIn = new Counter({
    name: 'chat_gateway_frames_in_total',
    help: 'Client frames by type',
    labelNames: ['type'],
    registers: [registry],
  });
  const fannedOut = new Counter({
    name: 'chat_gateway_events_fanned_out_total',
    help: 'Room events published to local sockets (once per gateway)',
    registers: [registry],
  });
  const duplicates = new Counter({
    name: 'chat_gateway_duplicate_events_dropped_total',
    help: 'Re-published room events dropped by seq',
    registers: [registry],
  });
  const sendLatency = new Histogram({
    name: 'chat_gateway_send_duration_seconds',
    help: 'message.send from frame to ack',
    buckets: [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });

  const nats = await connectNats(config.NATS_URL, `${config.CHAT_NAMESPACE}-${SERVICE}`, logger);
  const upstream = new Upstream(new RpcClient(nats.nc, config.CHAT_NAMESPACE, { timeoutMs: config.RPC_TIMEOUT_MS }));

  const app = uws.App();
  const hub = new RoomHub(nats.nc, app, config.CHAT_NAMESPACE, logger, {
    roomChannels: (delta) => roomChannels.inc(delta),
    eventFannedOut: () => fannedOut.inc(),
    duplicateDropped: () => duplicates.inc(),
  });
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
      verifier,
      logger,
      metrics: { connections: (delta) => connections.inc(delta), framesIn: (type) => framesIn.inc({ type }) },
    },
    {
      upstream,
      hub,
      logger,
      replayMaxEvents: config.REPLAY_MAX_EVENTS,
      relayWaitMs: 5000,
      onSend: (seconds) => sendLatency.observe(seconds),
    },
  );
  const wsPort = await sockets.listen();

  const ops: OpsState = { registry, shuttingDown: false, checks: [{ name: 'nats', ok: () => nats.isConnected() }] };
  const rest = createRestApp({ upstream, verifier, ops, logger, maxBodyBytes: config.REST_MAX_BODY_BYTES });
  const http = await listen(rest, config.GATEWAY_HTTP_PORT, config.GATEWAY_HOST);
  const httpPort = (http.address() as { port: number }).port;
  logger.info({ ws_port: wsPort, http_port: httpPort, namespace: config.CHAT_NAMESPACE }, 'gateway ready');

  onShutdownSignal(logger, config.SHUTDOWN_TIMEOUT_MS, async () => {
    ops.shuttingDown = true;
    sockets.stopListening();
    await sockets.closeAll(config.SHUTDOWN_DRAIN_WINDOW_MS);
    await closeServer(http);
    await nats.nc.drain();
  });
}

main().catch((error: unknown) => exitOnStartupError(undefined, error));
