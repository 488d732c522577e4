import { connect, type NatsConnection } from 'nats';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { eventually } from '../support/eventually.js';
import { FakeWebhook } from '../support/fake-push.js';
import { api } from '../support/http.js';
import { type PrivateNatsCluster, privateNatsCluster } from '../support/private-servers.js';
import { TestSocket } from '../support/socket-client.js';
import { mintToken, TestStack } from '../support/test-stack.js';

const alice = mintToken('c-alice', { name: 'Alice' });
const bob = mintToken('c-bob', { name: 'Bob' });
const TOTAL = 120;
const KILL_AFTER = 40;

let cluster: PrivateNatsCluster;
let stack: TestStack;
let nc: NatsConnection;
const webhook = new FakeWebhook();

beforeAll(async () => {
  [cluster] = await Promise.all([privateNatsCluster(3), webhook.start()]);
  stack = new TestStack({
    env: { NATS_URL: cluster.urls, NATS_STREAM_REPLICAS: '3' },
    notifier: { NOTIFY_COALESCE_MS: '50', NOTIFY_WEBHOOK_URL: webhook.url, NOTIFY_WEBHOOK_SECRET: 'cluster-secret-0123456789' },
  });
  await stack.start();
  nc = await connect({ servers: cluster.urls.split(',') });
}, 120_000);

afterAll(async () => {
  await nc?.close();
  await stack?.stop();
  await Promise.all([cluster?.dispose(), webhook.stop()]);
});

const started = Date.now();
/** What the test did when, printed with a failure: a timeout alone does not say which phase hung. */
const phases: string[] = [];
function phase(what: string): void {
  phases.push(`${((Date.now() - started) / 1000).toFixed(1)} s ${what}`);
}

/** Sends until acked, retrying with the same client_msg_id (the contract's idempotent retry). */
async function sendUntilAcked(socket: TestSocket, roomId: string, clientMsgId: string): Promise<{ id: string; seq: number }> {
  for (let attempt = 1; ; attempt++) {
    const answer = await socket.request({ type: 'message.send', room_id: roomId, client_msg_id: clientMsgId, body: clientMsgId }, 20_000);
    if (answer.type === 'ack') return (answer.data as { message: { id: string; seq: number } }).message;
    expect((answer as { code?: string }).code, JSON.stringify(answer)).toBe('unavailable');
    phase(`${clientMsgId} attempt ${attempt}: unavailable`);
    expect(attempt, `${clientMsgId} still unavailable; ${phases.join('; ')}`).toBeLessThan(20);
  }
}

describe('a 3-node JetStream cluster losing the stream leader under load', () => {
  it('loses, duplicates and reorders no acked message, and the projection and pushes keep flowing', async () => {
    onTestFailed(() => console.error(`nats-cluster phases:\n${phases.join('\n')}`));
    phase('test starts');
    const jsm = await nc.jetstreamManager();
    const streamName = `${stack.namespace}_room_events`;
    const info = await jsm.streams.info(streamName);
    expect(info.config.num_replicas).toBe(3);
    expect(info.cluster?.replicas?.length).toBe(2);

    const http = stack.gateway().httpUrl;
    await api(http, 'PUT', '/v1/devices/c-bob-phone', { token: bob, body: { platform: 'webhook' } });
    const roomId = (await api(http, 'POST', '/v1/rooms', { token: alice, body: { kind: 'direct', user_id: 'c-bob' } })).body.id as string;
    const socket = await TestSocket.connect(stack.gateway().wsUrl, alice);
    await socket.ack({ type: 'subscribe', room_id: roomId });
    phase('subscribed');

    const acked = new Map<string, number>();
    let lastId = '';
    let killed: string | undefined;
    for (let i = 0; i < TOTAL; i++) {
      const id = `c-${i}`;
      const message = await sendUntilAcked(socket, roomId, id);
      acked.set(id, message.seq);
      lastId = message.id;
      if (i % 20 === 0) phase(`${id} acked`);
      if (i === KILL_AFTER) {
        const leader = (await jsm.streams.info(streamName)).cluster?.leader;
        const index = Number(leader?.replace(/^n/, '')) - 1;
        expect(cluster.nodes[index], `leader ${leader}`).toBeDefined();
        await cluster.nodes[index]?.stop({ kill: true });
        killed = leader;
        phase(`killed the stream leader ${leader} after ${KILL_AFTER + 1} acks`);
      }
    }
    expect(killed).toBeDefined();
    phase(`all ${TOTAL} sends acked`);
    const lastSeq = Math.max(...acked.values());

    // The stream holds every acked message exactly once, in seq order (read back from a surviving node).
    // JetStream answers again once the survivors have elected new leaders: retried until then.
    // Read message by message (direct gets are plain requests with a timeout; a consumer's fetch
    // could wait forever on a node that died).
    const ackedSeqs = [...acked.values()].sort((a, b) => a - b);
    expect(new Set(ackedSeqs).size).toBe(TOTAL);
    const seqs = await eventually(async () => {
      const found: number[] = [];
      const { state } = await jsm.streams.info(streamName);
      const subject = `${stack.namespace}.room.${roomId}.event`;
      for (let streamSeq = state.first_seq; streamSeq <= state.last_seq; streamSeq++) {
        const stored = await jsm.streams.getMessage(streamName, { seq: streamSeq });
        if (stored.subject !== subject) continue;
        const event = stored.json<{ type: string; seq: number }>();
        if (event.type === 'message.created') found.push(event.seq);
      }
      // Every acked seq, not only the last: sends refused during the election reach the stream
      // through the outbox relay, after later ones.
      expect(ackedSeqs.filter((seq) => !found.includes(seq))).toEqual([]);
      return found;
    }, 60_000);
    phase('the stream holds every acked message');
    // Each acked message exactly once. The stream's own order may differ from seq order around the
    // fault (publishes refused during the election are left to the outbox relay, which publishes
    // them after later commits); consumers order by seq, and the subscriber below shows it.
    expect(seqs).toHaveLength(ackedSeqs.length);
    expect([...seqs].sort((a, b) => a - b)).toEqual(ackedSeqs);
    // The subscriber received every message once, in seq order, without a gap.
    await eventually(async () => {
      const delivered = socket
        .events(roomId)
        .filter((f) => f.type === 'message.created')
        .map((f) => f.seq as number);
      expect(delivered).toEqual(ackedSeqs);
    }, 30_000);
    phase('the subscriber received every message in seq order');

    // No consumer is stuck: both durables acknowledge everything, the read model and pushes catch up.
    const db = new pg.Client({ connectionString: stack.databaseUrl });
    await db.connect();
    try {
      await eventually(async () => {
        const { rows } = await db.query<{ last_seq: string }>('select last_seq from rooms.rooms where id = $1', [roomId]);
        expect(Number(rows[0]?.last_seq)).toBe(lastSeq);
        for (const durable of [`${stack.namespace}_rooms_projection`, `${stack.namespace}_notifier`]) {
          const consumer = await jsm.consumers.info(streamName, durable);
          expect(consumer.num_pending + consumer.num_ack_pending, durable).toBe(0);
        }
      }, 30_000);
      phase('projection and consumers caught up');
    } finally {
      await db.end();
    }
    // Pushes are coalesced: the last message is in some push's message_ids.
    await webhook.waitFor((p) => p.body.device_token === 'c-bob-phone' && (p.body.message_ids as string[]).includes(lastId), 1, 30_000);
    await socket.close();
  }, 180_000);
});
