import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { Stack } from '../support/stack.js';

/** `pnpm start`'s supervisor (deploy/local/start-stack.mjs) over the real processes. */
const infra = inject('infra');
const launcher = join(import.meta.dirname, '..', '..', 'deploy', 'local', 'start-stack.mjs');
const stacks: Stack[] = [];

class Supervisor {
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  private readonly waiters: Array<{ match: (line: string) => boolean; resolve: (line: string) => void }> = [];

  constructor(readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on('line', (line) => {
        this.lines.push(line);
        for (const waiter of [...this.waiters]) {
          if (waiter.match(line)) {
            this.waiters.splice(this.waiters.indexOf(waiter), 1);
            waiter.resolve(line);
          }
        }
      });
    }
  }

  /** The first line (from now on, or already seen after `after`) that matches. */
  waitFor(match: (line: string) => boolean, after = 0): Promise<string> {
    const seen = this.lines.slice(after).find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      this.waiters.push({ match, resolve });
      void this.exited.then((code) => reject(new Error(`supervisor exited with ${code}\n${this.lines.slice(-20).join('\n')}`)));
    });
  }

  /** pid of the latest start of `name`. */
  async started(name: string, after = 0): Promise<number> {
    const line = await this.waitFor((l) => l.startsWith(`[start-stack] ${name} started (pid `), after);
    return Number(/pid (\d+)/.exec(line)?.[1]);
  }
}

async function supervise(extraEnv: Record<string, string> = {}): Promise<Supervisor> {
  const stack = new Stack(infra, {}, 'ss');
  stacks.push(stack);
  await stack.createDatabase();
  const child = spawn(process.execPath, [launcher], { env: stack.env(extraEnv), stdio: ['ignore', 'pipe', 'pipe'] });
  return new Supervisor(child);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

afterAll(async () => {
  for (const stack of stacks) await stack.stop();
});

describe('pnpm start supervises', () => {
  it('restarts a process killed with -9, leaves the others running, and stops them all on SIGTERM', async () => {
    const supervisor = await supervise();
    const names = ['rooms-service', 'messages-service', 'notifier-worker', 'gateway'];
    const pids = new Map<string, number>();
    for (const name of names) pids.set(name, await supervisor.started(name));
    await supervisor.waitFor((l) => l.includes('"gateway ready"'));

    const killedPid = pids.get('messages-service') as number;
    const mark = supervisor.lines.length;
    process.kill(killedPid, 'SIGKILL');
    const died = await supervisor.waitFor((l) => l.includes('messages-service DIED (signal SIGKILL)'), mark);
    expect(died).toContain('restart 1 in');
    const restartedPid = await supervisor.started('messages-service', mark);
    expect(restartedPid).not.toBe(killedPid);
    // Only the restarted process starts after the mark: its readiness line is the one awaited.
    await supervisor.waitFor((l) => /"msg":"[a-z-]+ service ready"/.test(l), mark);
    for (const name of ['rooms-service', 'notifier-worker', 'gateway']) expect(alive(pids.get(name) as number)).toBe(true);
    expect(alive(restartedPid)).toBe(true);

    supervisor.child.kill('SIGTERM');
    expect(await supervisor.exited).toBe(0);
    for (const pid of [...pids.values(), restartedPid]) expect(alive(pid)).toBe(false);
  });

  it('stops the whole stack, without restarting, when a process exits with a configuration error (78)', async () => {
    const supervisor = await supervise({ NOTIFY_WEBHOOK_URL: 'not a url' });
    expect(await supervisor.exited).toBe(78);
    expect(supervisor.lines.join('\n')).toContain('notifier-worker exited with a configuration error (78)');
    expect(supervisor.lines.filter((l) => l.startsWith('[start-stack] notifier-worker started'))).toHaveLength(1);
    const pids = await Promise.all(['rooms-service', 'messages-service', 'gateway'].map((n) => supervisor.started(n)));
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });
});
