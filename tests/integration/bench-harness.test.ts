import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Keeps `pnpm bench` from rotting: the smallest scenario of quick mode, once, against our stack
 * and both baselines. It asserts that the harness works and reports, never a timing.
 */
describe('benchmark harness', () => {
  it('runs the quick connections scenario against chat, bare uWS and Socket.IO and writes results', { timeout: 240_000 }, async () => {
    const infra = inject('infra');
    const out = join(tmpdir(), `bench-${process.pid}.json`);
    const output: string[] = [];
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(
        process.execPath,
        [join(root, 'tests/bench/dist/main.js'), '--quick', '--scenario', 'connections', '--connections', '60', '--out', out],
        {
          cwd: root,
          env: {
            ...process.env,
            BENCH_DATABASE_URL: infra.adminDatabaseUrl,
            BENCH_NATS_URL: infra.natsUrl,
            BENCH_REDIS_URL: infra.redisUrl,
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
      child.on('exit', resolve);
    });
    const printed = output.join('');
    expect(code, printed).toBe(0);
    expect(printed).toContain('chat/Socket.IO');
    const results = JSON.parse(readFileSync(out, 'utf8')) as { results: Array<{ target: string; metric: string; value: number }> };
    rmSync(out, { force: true });
    const failed = results.results.filter((r) => r.metric === 'failed connections');
    expect(failed.map((r) => [r.target, r.value])).toEqual([
      ['chat', 0],
      ['bare-uws', 0],
      ['socketio', 0],
    ]);
    for (const target of ['chat', 'bare-uws', 'socketio']) {
      const memory = results.results.find((r) => r.target === target && r.metric.startsWith('edge memory per socket'));
      expect(Number.isFinite(memory?.value)).toBe(true);
    }
  });
});
