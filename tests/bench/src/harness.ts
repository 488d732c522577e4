import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const distDir = dirname(fileURLToPath(import.meta.url));

/** One load-generator process, driven by numbered IPC commands. */
export class LoadGen {
  private next = 1;
  private readonly waiting = new Map<number, (reply: Record<string, unknown>) => void>();

  private constructor(readonly child: ChildProcess) {
    child.on('message', (raw) => {
      const message = raw as { id?: number };
      if (message.id === undefined) return;
      this.waiting.get(message.id)?.(message as Record<string, unknown>);
      this.waiting.delete(message.id);
    });
  }

  /** Forks a generator at lower priority than the servers (the task: measure servers, not the generator). */
  static async start(): Promise<LoadGen> {
    const child = fork(join(distDir, 'loadgen.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
    try {
      if (child.pid) setPriority(child.pid, 10);
    } catch {
      // not permitted: run at normal priority
    }
    await new Promise<void>((resolve) => child.once('message', () => resolve()));
    return new LoadGen(child);
  }

  request<T = Record<string, unknown>>(command: Record<string, unknown>): Promise<T> {
    const id = this.next++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve as (reply: Record<string, unknown>) => void);
      this.child.send({ ...command, id });
    });
  }

  async stop(): Promise<void> {
    await this.request({ cmd: 'close' });
  }
}

export async function startLoadGens(count: number): Promise<LoadGen[]> {
  return Promise.all(Array.from({ length: count }, () => LoadGen.start()));
}

/** Splits a list into `parts` nearly equal slices, keeping order. */
export function split<T>(items: T[], parts: number): T[][] {
  const out: T[][] = Array.from({ length: parts }, () => []);
  items.forEach((item, i) => {
    out[i % parts]?.push(item);
  });
  return out;
}

/** Resident memory of a process, from /proc (bytes). */
export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb * 1024;
}

/** Source addresses on the loopback network, so many sockets fit the local port range. */
export const loopbackAddresses = (count: number) => Array.from({ length: count }, (_, i) => `127.0.0.${i + 1}`);

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function progress(line: string): void {
  process.stdout.write(`  … ${line}\n`);
}
