#!/usr/bin/env node
// Runs the whole stack in the foreground: every process of the workspace, built by `pnpm start`
// beforehand. Ctrl-C or SIGTERM stops them all gracefully; if one dies, the rest are stopped too
// and the exit code says so. Each process reads the same environment (see README).
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const processes = ['rooms-service', 'messages-service', 'notifier-worker', 'gateway'];

const children = new Map();
let stopping = false;
let exitCode = 0;

for (const name of processes) {
  const dist = join(root, name, 'dist');
  const child = spawn(process.execPath, ['--enable-source-maps', '--import', join(dist, 'instrument.js'), join(dist, 'main.js')], {
    cwd: join(root, name),
    env: process.env,
    stdio: ['ignore', 'inherit', 'inherit'],
    // Own process group: a terminal's Ctrl-C reaches only this launcher, which stops each child once.
    detached: true,
  });
  children.set(name, child);
  child.on('exit', (code, signal) => {
    children.delete(name);
    if (!stopping) {
      process.stderr.write(`${name} exited (${signal ?? code}); stopping the stack\n`);
      exitCode = code || 1;
      stopAll('SIGTERM');
    }
    if (children.size === 0) process.exit(exitCode);
  });
}

function stopAll(signal) {
  stopping = true;
  for (const child of children.values()) child.kill(signal);
}

process.on('exit', () => {
  for (const child of children.values()) child.kill('SIGKILL');
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (stopping) {
      for (const child of children.values()) child.kill('SIGKILL');
      process.exit(130);
    }
    process.stderr.write(`${signal}: stopping ${[...children.keys()].join(', ')}\n`);
    stopAll('SIGTERM');
  });
}
