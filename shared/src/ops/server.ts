import type { Server } from 'node:http';
import express, { type Router } from 'express';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

export interface ReadinessCheck {
  name: string;
  ok(): boolean | Promise<boolean>;
}

export interface OpsState {
  registry: Registry;
  checks: ReadinessCheck[];
  /** Set first on shutdown, so load balancers stop routing before anything closes. */
  shuttingDown: boolean;
}

/** Readiness of a service: connected to NATS and able to reach Postgres, and not shutting down. */
export function serviceOpsState(registry: Registry, deps: { natsConnected(): boolean; databaseReachable(): Promise<boolean> }): OpsState {
  return {
    registry,
    shuttingDown: false,
    checks: [
      { name: 'nats', ok: () => deps.natsConnected() },
      { name: 'postgres', ok: () => deps.databaseReachable() },
    ],
  };
}

/**
 * `/healthz` (the process runs), `/readyz` (it can do its job), `/metrics` (Prometheus text;
 * left out with `metrics: false`, for a public port).
 */
export function opsRouter(state: OpsState, options: { metrics?: boolean } = {}): Router {
  const router = express.Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const results: Record<string, boolean> = {};
    for (const check of state.checks) {
      try {
        results[check.name] = await check.ok();
      } catch {
        results[check.name] = false;
      }
    }
    const ready = !state.shuttingDown && Object.values(results).every(Boolean);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', shutting_down: state.shuttingDown, checks: results });
  });
  if (options.metrics === false) return router;
  router.get('/metrics', async (_req, res) => {
    res.type(state.registry.contentType).send(await state.registry.metrics());
  });
  return router;
}

export interface OpsServer {
  port: number;
  close(): Promise<void>;
}

/** The ops endpoints on their own port, for processes that have no other HTTP surface. */
export async function startOpsServer(port: number, state: OpsState, logger: Logger, host = '0.0.0.0'): Promise<OpsServer> {
  const app = express();
  app.disable('x-powered-by');
  app.use(opsRouter(state));
  const server = await listen(app, port, host);
  const actualPort = (server.address() as { port: number }).port;
  logger.info({ port: actualPort }, 'ops endpoints listening (/healthz, /readyz, /metrics)');
  return { port: actualPort, close: () => closeServer(server) };
}

export function listen(app: express.Express, port: number, host = '0.0.0.0'): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (error?: Error) => (error ? reject(error) : resolve(server)));
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
