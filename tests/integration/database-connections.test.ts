import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { api } from '../support/http.js';
import { TestSocket } from '../support/socket-client.js';
import { mintToken, TestStack } from '../support/test-stack.js';

/** Postgres ending a process's connections (an operator's pg_terminate_backend, a failover). */
const infra = inject('infra');
let stack: TestStack;
const alice = mintToken('dc-alice', { name: 'Alice' });

beforeAll(async () => {
  stack = new TestStack({ gateways: 1 });
  await stack.start();
});
afterAll(async () => {
  await stack.stop();
});

async function terminateBackends(databaseName: string): Promise<number> {
  const admin = new pg.Client({ connectionString: infra.adminDatabaseUrl });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ n: number }>(
      'select count(pg_terminate_backend(pid))::int as n from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
      [databaseName],
    );
    return rows[0]?.n ?? 0;
  } finally {
    await admin.end();
  }
}

describe('a pooled connection ended by Postgres', () => {
  it('is logged and replaced: every process stays up and the next message is stored and delivered', async () => {
    const roomId = (
      await api(stack.gateway().httpUrl, 'POST', '/v1/rooms', { token: alice, body: { kind: 'group', title: 'pg', member_ids: [] } })
    ).body.id as string;
    const socket = await TestSocket.connect(stack.gateway().wsUrl, alice);
    await socket.ack({ type: 'subscribe', room_id: roomId });
    await socket.ack({ type: 'message.send', room_id: roomId, client_msg_id: 'before', body: 'before' });
    await socket.next((f) => f.type === 'message.created');

    expect(await terminateBackends(stack.databaseName)).toBeGreaterThan(0);
    // Each service that holds a pool sees its idle connections end, says so, and keeps running.
    for (const name of ['rooms-service', 'messages-service']) {
      const process = stack.processes.find((p) => p.name === name);
      const line = await process?.waitForLine((l) => l.msg === 'database connection lost; the pool replaces it');
      expect(line?.level).toBe('warn');
    }

    const ack = await socket.ack({ type: 'message.send', room_id: roomId, client_msg_id: 'after', body: 'after' });
    expect(typeof (ack.message as { seq: number }).seq).toBe('number');
    const created = await socket.next((f) => f.type === 'message.created' && (f.message as { body: string }).body === 'after');
    expect(created).toBeDefined();
    for (const p of stack.processes)
      expect({ name: p.name, exitCode: p.child.exitCode, signal: p.child.signalCode }).toEqual({
        name: p.name,
        exitCode: null,
        signal: null,
      });
    await socket.close();
  });
});
