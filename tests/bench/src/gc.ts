import { writeFile } from 'node:fs/promises';
import WebSocket from 'ws';

/** The flag that lets the bench reach a process's inspector, on a free local port. */
export const INSPECT_ARG = '--inspect=127.0.0.1:0';

const LISTENING = /Debugger listening on (ws:\/\/\S+)/;

/** The inspector address a process printed on stderr when started with INSPECT_ARG. */
export function inspectorUrlIn(text: string): string | undefined {
  return LISTENING.exec(text)?.[1];
}

/** One inspector call, answered by its id. */
function inspect<T>(ws: WebSocket, id: number, method: string, params?: Record<string, unknown>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onMessage = (raw: WebSocket.RawData) => {
      const reply = JSON.parse(raw.toString()) as { id?: number; result?: T; error?: { message: string } };
      if (reply.id !== id) return;
      ws.off('message', onMessage);
      if (reply.error) reject(new Error(`inspector: ${reply.error.message}`));
      else resolve(reply.result as T);
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify({ id, method, ...(params ? { params } : {}) }));
  });
}

/**
 * Runs a full garbage collection in another Node.js process through its inspector, so memory is
 * compared once each server has dropped the garbage of the connect burst, the same way for every
 * target (the bench's only use of the inspector). Answers the JavaScript heap in use after it
 * (bytes): what the server's own objects hold, apart from uWS's native per-socket state.
 */
export async function collectGarbage(inspectorUrl: string): Promise<number> {
  const ws = new WebSocket(inspectorUrl);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  try {
    for (let id = 1; id <= 2; id++) await inspect(ws, id, 'HeapProfiler.collectGarbage');
    const used = await inspect<{ result: { value: number } }>(ws, 4, 'Runtime.evaluate', {
      expression: 'process.memoryUsage().heapUsed',
      returnByValue: true,
    });
    const snapshotDir = process.env.BENCH_HEAP_SNAPSHOT_DIR;
    if (snapshotDir) await takeHeapSnapshot(ws, `${snapshotDir}/${new URL(inspectorUrl).port}-${Date.now()}.heapsnapshot`);
    return used.result.value;
  } finally {
    ws.close();
  }
}

/** Writes the process's heap (after the collection) where BENCH_HEAP_SNAPSHOT_DIR says, to see what the sockets hold. */
async function takeHeapSnapshot(ws: WebSocket, path: string): Promise<void> {
  const chunks: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const onMessage = (raw: WebSocket.RawData) => {
      const message = JSON.parse(raw.toString()) as {
        id?: number;
        method?: string;
        params?: { chunk: string };
        error?: { message: string };
      };
      if (message.method === 'HeapProfiler.addHeapSnapshotChunk' && message.params) chunks.push(message.params.chunk);
      if (message.id !== 3) return;
      ws.off('message', onMessage);
      if (message.error) reject(new Error(`inspector: ${message.error.message}`));
      else resolve();
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify({ id: 3, method: 'HeapProfiler.takeHeapSnapshot', params: { reportProgress: false } }));
  });
  await writeFile(path, chunks.join(''));
}
