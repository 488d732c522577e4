#!/usr/bin/env node
// Runs the whole stack in the foreground and supervises it: every process of the workspace, built
// by `pnpm start` beforehand, each reading the same environment (see README).
// - A process that dies is logged loudly and restarted with exponential back-off (0.5 s doubling
//   to 30 s; back to 0.5 s once it has run for a minute); the others keep running.
// - A process that exits with EXIT_CONFIG (78) cannot start with this configuration: restarting
//   it would only loop, so the whole stack stops and the launcher exits 78.
// - Ctrl-C or SIGTERM stops them all gracefully (a second one kills them); exit code 0.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT_CONFIG } from '../../shared/dist/ops/lifecycle.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const names = ['rooms-service', 'messages-service', 'notifier-worker', 'gateway'];
const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 30_000;
/** A process that ran this long is healthy again: its next crash starts the back-off over. */
const STABLE_AFTER_MS = 60_000;

/** Supervisor lines go to stderr, apart from the processes' JSON logs on stdout. */
function say(line) {
  process.stderr.write(`[start-stack] ${line}\n`);
}

/** name → { child, startedAt, failures, timer } */
const supervised = new Map();
let stopping = false;
let exitCode = 0;

// `pnpm start` is the development entry point: without a configured key it asks explicitly for the
// built-in development secret (a process started any other way refuses to run without a key).
const hasKey = Boolean(process.env.JWT_SECRET?.trim() || process.env.JWT_PUBLIC_KEY?.trim());
const env = !hasKey && process.env.NODE_ENV !== 'production' ? { CHAT_DEV_MODE: '1', ...process.env } : process.env;

function start(name) {
  const dist = join(root, name, 'dist');
  const child = spawn(process.execPath, ['--enable-source-maps', '--import', join(dist, 'instrument.js'), join(dist, 'main.js')], {
    cwd: join(root, name),
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
    // Own process group: a terminal's Ctrl-C reaches only this launcher, which stops each child once.
    detached: true,
  });
  const entry = supervised.get(name) ?? { failures: 0 };
  Object.assign(entry, { child, startedAt: Date.now(), timer: undefined });
  supervised.set(name, entry);
  say(`${name} started (pid ${child.pid})`);
  child.on('exit', (code, signal) => onExit(name, entry, code, signal));
}

function onExit(name, entry, code, signal) {
  entry.child = undefined;
  const how = signal ? `signal ${signal}` : `code ${code}`;
  if (stopping) {
    say(`${name} stopped (${how})`);
    finishIfAllStopped();
    return;
  }
  if (code === EXIT_CONFIG) {
    say(`!!! ${name} exited with a configuration error (${EXIT_CONFIG}): see its message above; stopping the stack`);
    exitCode = EXIT_CONFIG;
    stopAll('SIGTERM');
    return;
  }
  const ranMs = Date.now() - entry.startedAt;
  entry.failures = ranMs >= STABLE_AFTER_MS ? 1 : entry.failures + 1;
  const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** (entry.failures - 1));
  say(
    `!!! ${name} DIED (${how}) after ${(ranMs / 1000).toFixed(1)} s; ` +
      `restart ${entry.failures} in ${(delay / 1000).toFixed(1)} s (the other processes keep running)`,
  );
  entry.timer = setTimeout(() => {
    entry.timer = undefined;
    if (!stopping) start(name);
  }, delay);
}

function running() {
  return [...supervised.entries()].filter(([, e]) => e.child).map(([name, e]) => [name, e.child]);
}

function finishIfAllStopped() {
  if (running().length === 0) process.exit(exitCode);
}

function stopAll(signal) {
  stopping = true;
  for (const entry of supervised.values()) {
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = undefined;
  }
  for (const [, child] of running()) child.kill(signal);
  finishIfAllStopped();
}

process.on('exit', () => {
  for (const [, child] of running()) child.kill('SIGKILL');
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (stopping) {
      for (const [, child] of running()) child.kill('SIGKILL');
      process.exit(130);
    }
    say(
      `${signal}: stopping ${running()
        .map(([name]) => name)
        .join(', ')}`,
    );
    stopAll('SIGTERM');
  });
}

for (const name of names) start(name);
