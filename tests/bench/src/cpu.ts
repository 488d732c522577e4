import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Clock ticks per second for /proc times (USER_HZ; 100 on every Linux this runs on). */
const TICKS_PER_S = 100;

/** Process groups whose CPU is reported: our processes by name, plus the shared servers. */
export type CpuGroups = Record<string, number[]>;

function ticksOf(pid: number): number {
  try {
    // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0; // the process ended: it contributes nothing more
  }
}

function pidsNamed(name: string): number[] {
  try {
    return execFileSync('pgrep', ['-x', name], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** The database, broker and cache this machine shares between the stack and the baselines. */
export function serverGroups(): CpuGroups {
  return { postgres: pidsNamed('postgres'), nats: pidsNamed('nats-server'), redis: pidsNamed('redis-server') };
}

/** Starts a CPU measurement; the returned function gives each group's share of one core since. */
export function measureCpu(groups: CpuGroups): () => Record<string, number> {
  const started = performance.now();
  const before = new Map<number, number>();
  for (const pids of Object.values(groups)) for (const pid of pids) before.set(pid, ticksOf(pid));
  return () => {
    const seconds = (performance.now() - started) / 1000;
    return Object.fromEntries(
      Object.entries(groups).map(([name, pids]) => {
        // Per process, and never below zero: a process that ended meanwhile (a closed Postgres
        // backend) reads as 0 and must not take its earlier ticks off the group.
        const used = pids.reduce((n, p) => n + Math.max(0, ticksOf(p) - (before.get(p) ?? 0)), 0);
        return [name, used / TICKS_PER_S / seconds];
      }),
    );
  };
}

export function formatCpu(shares: Record<string, number>): string {
  return Object.entries(shares)
    .filter(([, share]) => share >= 0.005)
    .map(([name, share]) => `${name} ${(share * 100).toFixed(0)}%`)
    .join(', ');
}
