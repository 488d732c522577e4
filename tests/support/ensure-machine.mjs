#!/usr/bin/env node
// Run by `pnpm test` before anything else, so the README's two commands work on a fresh machine
// of the kind the project targets (Debian, root or passwordless sudo): installs what the tests need
// from Debian's packages when missing, and starts a local service that is down. Idempotent and quiet
// when everything is already there; `apt-get update` runs only when something must be installed.
//
// Set CHAT_SKIP_ENSURE_MACHINE=1 to skip it (a machine prepared some other way, or test containers).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { Socket } from 'node:net';

if (process.env.CHAT_SKIP_ENSURE_MACHINE === '1') process.exit(0);

const log = (line) => console.log(`ensure-machine: ${line}`);

function has(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}
function packageInstalled(name) {
  return spawnSync('dpkg', ['-s', name], { stdio: 'ignore' }).status === 0;
}
function asRoot(command, args, env = {}) {
  const root = process.getuid?.() === 0;
  if (!root && !has('sudo')) throw new Error(`needs root to run: ${command} ${args.join(' ')}`);
  const [file, argv] = root ? [command, args] : ['sudo', ['-n', command, ...args]];
  execFileSync(file, argv, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...env } });
}

// --- Debian packages --------------------------------------------------------------------------
// Browser tests drive Debian's Chromium (no browser download), with an emoji font for reaction
// chips; the alert-rule tests use promtool from the prometheus package.
const wanted = [
  { pkg: 'chromium', present: () => existsSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium') },
  { pkg: 'fonts-noto-color-emoji', present: () => packageInstalled('fonts-noto-color-emoji') },
  { pkg: 'prometheus', present: () => has('promtool') },
];
const missing = wanted.filter((w) => !w.present()).map((w) => w.pkg);
if (missing.length > 0) {
  if (!has('apt-get')) {
    log(`missing ${missing.join(', ')} and no apt-get here: install them by hand`);
  } else {
    log(`installing ${missing.join(', ')} from Debian`);
    const env = { DEBIAN_FRONTEND: 'noninteractive' };
    asRoot('apt-get', ['update', '-qq'], env);
    // prometheus would start its own daemon on :9090 where the package's init policy allows it;
    // only promtool is wanted, so the service is not started.
    asRoot('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], env);
  }
}

// --- Local services ---------------------------------------------------------------------------
// Tests against local services (the default; see tests/support/infrastructure.ts) need PostgreSQL,
// Redis and NATS with JetStream on their usual ports. Only a service that is down is started.
function portOpen(port) {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (open) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(500);
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, '127.0.0.1');
  });
}

const services = [
  {
    name: 'PostgreSQL',
    port: 5432,
    urlVariable: 'TEST_DATABASE_URL',
    start: () => {
      const version = readdirSync('/etc/postgresql').sort().at(0);
      asRoot('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start']);
    },
  },
  {
    name: 'Redis',
    port: 6379,
    urlVariable: 'TEST_REDIS_URL',
    start: () => {
      mkdirSync('/var/lib/redis', { recursive: true });
      mkdirSync('/var/log/redis', { recursive: true });
      asRoot('redis-server', [
        '--daemonize',
        'yes',
        '--bind',
        '127.0.0.1',
        '-::1',
        '--port',
        '6379',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        '/var/lib/redis',
        '--logfile',
        '/var/log/redis/ci.log',
      ]);
    },
  },
  {
    name: 'NATS',
    port: 4222,
    urlVariable: 'TEST_NATS_URL',
    start: () => {
      mkdirSync('/var/lib/nats-server', { recursive: true });
      asRoot('start-stop-daemon', [
        '--start',
        '--oknodo',
        '--background',
        '--exec',
        '/usr/sbin/nats-server',
        '--',
        '-a',
        '127.0.0.1',
        '-p',
        '4222',
        '-js',
        '-sd',
        '/var/lib/nats-server',
        '-l',
        '/var/log/nats-server.log',
      ]);
    },
  },
];

// Containers (TEST_SERVICES=containers) or a service named by its TEST_*_URL are not ours to start.
const local = services.filter((s) => !process.env[s.urlVariable]);
if (process.env.TEST_SERVICES !== 'containers') {
  for (const service of local) {
    if (await portOpen(service.port)) continue;
    log(`starting ${service.name}`);
    try {
      service.start();
    } catch (error) {
      log(`could not start ${service.name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  for (const service of local) {
    let open = false;
    for (let i = 0; i < 50 && !open; i++) {
      open = await portOpen(service.port);
      if (!open) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    if (!open) {
      console.error(`ensure-machine: ${service.name} is not listening on 127.0.0.1:${service.port}`);
      process.exit(1);
    }
  }
}
