import { createConnection } from 'node:net';

/**
 * Where the integration tests find Postgres, NATS and Redis. One switch, TEST_SERVICES:
 *  - `containers`: testcontainers starts throw-away servers (needs Docker);
 *  - `local`: the already-running servers, at TEST_DATABASE_URL / TEST_NATS_URL / TEST_REDIS_URL
 *    (defaults: 127.0.0.1 on the standard ports);
 *  - `auto` (default): containers when a Docker engine answers, local otherwise.
 * Either way the tests run; nothing is skipped when a server is missing: the run fails, saying why.
 */
export interface Infrastructure {
  urls: { mode: 'local' | 'containers'; adminDatabaseUrl: string; natsUrl: string; redisUrl: string };
  stop(): Promise<void>;
}

export async function provisionInfrastructure(): Promise<Infrastructure> {
  const wanted = process.env.TEST_SERVICES ?? 'auto';
  if (!['auto', 'local', 'containers'].includes(wanted)) throw new Error(`TEST_SERVICES must be auto, local or containers, not ${wanted}`);
  const useContainers = wanted === 'containers' || (wanted === 'auto' && (await dockerAnswers()));
  const infra = useContainers ? await startContainers() : localServices();
  for (const url of [infra.urls.adminDatabaseUrl, infra.urls.natsUrl, infra.urls.redisUrl]) await assertReachable(url);
  process.stdout.write(
    `integration tests use ${infra.urls.mode} services: postgres ${redact(infra.urls.adminDatabaseUrl)}, nats ${infra.urls.natsUrl}, redis ${infra.urls.redisUrl}\n`,
  );
  return infra;
}

function localServices(): Infrastructure {
  return {
    urls: {
      mode: 'local',
      adminDatabaseUrl: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
      natsUrl: process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222',
      redisUrl: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
    },
    stop: async () => undefined,
  };
}

async function dockerAnswers(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('docker timeout')), 5000));
    await Promise.race([getContainerRuntimeClient(), timeout]);
    return true;
  } catch {
    return false;
  }
}

async function startContainers(): Promise<Infrastructure> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const [postgres, nats, redis] = await Promise.all([
    new GenericContainer('postgres:16-alpine')
      .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust' })
      .withExposedPorts(5432)
      .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
      .start(),
    new GenericContainer('nats:2.10-alpine')
      .withCommand(['-js'])
      .withExposedPorts(4222)
      .withWaitStrategy(Wait.forLogMessage(/Server is ready/))
      .start(),
    new GenericContainer('redis:7-alpine')
      .withExposedPorts(6379)
      .withWaitStrategy(Wait.forLogMessage(/Ready to accept connections/))
      .start(),
  ]);
  return {
    urls: {
      mode: 'containers',
      adminDatabaseUrl: `postgres://postgres@${postgres.getHost()}:${postgres.getMappedPort(5432)}/postgres`,
      natsUrl: `nats://${nats.getHost()}:${nats.getMappedPort(4222)}`,
      redisUrl: `redis://${redis.getHost()}:${redis.getMappedPort(6379)}`,
    },
    stop: async () => {
      await Promise.all([postgres.stop(), nats.stop(), redis.stop()]);
    },
  };
}

function assertReachable(url: string): Promise<void> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: hostname, port: Number(port), timeout: 3000 });
    socket.once('connect', () => {
      socket.end();
      resolve();
    });
    const fail = (why: string) => {
      socket.destroy();
      reject(
        new Error(
          `integration tests need ${redact(url)}, which does not answer (${why}). Start it (README, "Tests") or set TEST_SERVICES=containers.`,
        ),
      );
    };
    socket.once('timeout', () => fail('timeout'));
    socket.once('error', (error) => fail(error.message));
  });
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]+@/, '//$1:***@');
}
