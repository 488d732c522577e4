import { connect, type NatsConnection } from 'nats';
import type { Logger } from 'pino';

export interface NatsLink {
  nc: NatsConnection;
  /** False while disconnected or draining: readiness follows it. */
  isConnected(): boolean;
}

export interface NatsConnectOptions {
  /**
   * Write queued commands once per turn of the event loop instead of once per callback: for a
   * process driven by uWebSockets.js, whose every socket callback drains the microtask and
   * nextTick queues on its own (patches/nats@2.29.3.patch).
   */
  flushAtTurnEnd?: boolean;
}

/** Connects with unlimited reconnects and logs every status change, so outages show in the logs. */
export async function connectNats(servers: string[], name: string, logger: Logger, options: NatsConnectOptions = {}): Promise<NatsLink> {
  const nc = await connect({
    servers,
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
    waitOnFirstConnect: true,
    // An Error (with its stack) per request only to improve the trace of a timeout: costly at scale.
    noAsyncTraces: true,
    flushAtTurnEnd: options.flushAtTurnEnd ?? false,
  });
  logger.info({ server: nc.getServer() }, 'connected to NATS');
  let connected = true;
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'pingTimer' || status.type === 'staleConnection') continue;
      if (status.type === 'disconnect') connected = false;
      if (status.type === 'reconnect') connected = true;
      const level = status.type === 'disconnect' || status.type === 'error' ? 'warn' : 'info';
      logger[level]({ nats_status: status.type, data: String(status.data) }, 'NATS status');
    }
  })();
  return { nc, isConnected: () => connected && !nc.isClosed() && !nc.isDraining() };
}
