import { progress } from '../harness.js';
import { percentiles } from '../stats.js';
import type { Target } from '../targets.js';
import type { Options, Result } from './common.js';

/** History pages (`GET /v1/rooms/{id}/messages`) under concurrent load: latency and rate. */
export async function history(
  target: Target & { stack?: { gateway(i?: number): { httpUrl: string } } },
  options: Options,
): Promise<Result[]> {
  if (!target.stack) return [];
  const http = target.stack.gateway(0).httpUrl;
  const user = 'hist-reader';
  const [room] = await target.createRooms([{ members: [user, 'hist-writer'] }]);
  const writer = target.token('hist-writer');
  const total = options.sizes.historyMessages as number;
  progress(`chat: writing ${total} messages of history`);
  for (let i = 0; i < total; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, total - i) }, (_, j) =>
        fetch(`${http}/v1/rooms/${room}/messages`, {
          method: 'POST',
          headers: { authorization: `Bearer ${writer}`, 'content-type': 'application/json' },
          body: JSON.stringify({ client_msg_id: `h-${i + j}`, body: `history message ${i + j} with some text to page through` }),
        }),
      ),
    );
  }
  const token = target.token(user);
  const latencies: number[] = [];
  const seconds = options.sizes.historySeconds as number;
  const deadline = Date.now() + seconds * 1000;
  let requests = 0;
  await Promise.all(
    Array.from({ length: options.sizes.historyConcurrency as number }, async () => {
      while (Date.now() < deadline) {
        const before = 51 + Math.floor(Math.random() * (total - 50));
        const started = performance.now();
        const response = await fetch(`${http}/v1/rooms/${room}/messages?limit=50&before_seq=${before}`, {
          headers: { authorization: `Bearer ${token}` },
        });
        await response.arrayBuffer();
        latencies.push(performance.now() - started);
        requests++;
      }
    }),
  );
  const p = percentiles(latencies);
  progress(`chat: ${requests} history pages in ${seconds} s, p50 ${p.p50.toFixed(1)} p99 ${p.p99.toFixed(1)} ms`);
  const base = { scenario: 'history', target: 'chat' };
  return [
    {
      ...base,
      metric: `GET messages (50/page), ${options.sizes.historyConcurrency} concurrent: p50`,
      value: p.p50,
      unit: 'ms',
      better: 'lower',
    },
    { ...base, metric: 'GET messages p99', value: p.p99, unit: 'ms', better: 'lower' },
    { ...base, metric: 'GET messages rate', value: requests / seconds, unit: 'pages/s', better: 'higher' },
  ];
}
