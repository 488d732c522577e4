import { ChatError } from '@chat/shared';
import type { Actor } from '@chat/shared/auth';
import type { RpcClient } from '@chat/shared/nats';
import { messagesRpc, type SyncAnswer, type SyncRequest, type SyncResult } from '@chat/shared/rpc';
import { describe, expect, it } from 'vitest';
import { ServicesClient } from './services-client.js';

const actor: Actor = { user_id: 'ann', name: 'Ann', roles: [] };
const rooms = ['a', 'b', 'c', 'd'].map((c) => `00000000-0000-4000-8000-00000000000${c}`);
const answer = (lastSeq: number): SyncAnswer => ({ last_seq: lastSeq, events: [], all_published: true });

/** An RPC client that answers sync_batch with the given results and a lone sync with last seq 99. */
function fakeRpc(results: SyncResult[]) {
  const calls: Array<{ endpoint: string; items: number }> = [];
  const rpc = {
    async call(endpoint: { name: string }, request: { items?: SyncRequest[] }) {
      calls.push({ endpoint: endpoint.name, items: request.items?.length ?? 1 });
      if (endpoint.name === messagesRpc.syncBatch.name) return { results };
      return answer(99);
    },
  };
  return { rpc: rpc as unknown as RpcClient, calls };
}

describe('ServicesClient.sync', () => {
  it('sends the subscribes of one turn as one batch; an error answers its own subscribe, a deferred one is asked alone', async () => {
    const { rpc, calls } = fakeRpc([
      { status: 'ok', answer: answer(3) },
      { status: 'error', error: new ChatError('not_found', 'room not found').toEnvelopeBody() },
      { status: 'deferred' },
      { status: 'ok', answer: answer(4) },
    ]);
    const services = new ServicesClient(rpc);
    const settled = await Promise.allSettled(rooms.map((room) => services.sync(actor, room, 0, 100)));
    expect(settled.map((s) => (s.status === 'fulfilled' ? s.value.last_seq : (s.reason as ChatError).code))).toEqual([
      3,
      'not_found',
      99,
      4,
    ]);
    expect(calls).toEqual([
      { endpoint: 'sync_batch', items: 4 },
      { endpoint: 'sync', items: 1 },
    ]);
  });

  it('asks a lone subscribe with sync, not a batch', async () => {
    const { rpc, calls } = fakeRpc([]);
    expect((await new ServicesClient(rpc).sync(actor, rooms[0] as string, undefined, 100)).last_seq).toBe(99);
    expect(calls).toEqual([{ endpoint: 'sync', items: 1 }]);
  });
});
