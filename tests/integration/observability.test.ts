import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.js';
import { FakeWebhook } from '../support/fake-push.js';
import { api } from '../support/http.js';
import { OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import { TestSocket } from '../support/socket-client.js';
import { mintToken, TestStack } from '../support/test-stack.js';

const otlp = new OtlpReceiver();
const webhook = new FakeWebhook();
let stack: TestStack;
const alice = mintToken('o-alice', { name: 'Alice' });
const bob = mintToken('o-bob', { name: 'Bob' });

beforeAll(async () => {
  await Promise.all([otlp.start(), webhook.start()]);
  stack = new TestStack({
    gateways: 1,
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      SHUTDOWN_READINESS_DELAY_MS: '400',
    },
    notifier: { NOTIFY_COALESCE_MS: '100', NOTIFY_WEBHOOK_URL: webhook.url, NOTIFY_WEBHOOK_SECRET: 'observability-secret-0123' },
  });
  await stack.start();
});
afterAll(async () => {
  await stack.stop();
  await Promise.all([otlp.stop(), webhook.stop()]);
});

/** Walks up the parent links; every span of a well-formed trace reaches the root. */
function ancestors(span: ReceivedSpan, trace: ReceivedSpan[]): ReceivedSpan[] {
  const byId = new Map(trace.map((s) => [s.spanId, s]));
  const chain: ReceivedSpan[] = [];
  let current = byId.get(span.parentSpanId);
  while (current) {
    chain.push(current);
    current = byId.get(current.parentSpanId);
  }
  return chain;
}

describe('one trace per message', () => {
  it('links the socket frame, the messages service and its SQL, the relay, the fan-out, the notifier, the job and the webhook call', async () => {
    await api(stack.gateway().httpUrl, 'PUT', '/v1/devices/o-bob-phone', { token: bob, body: { platform: 'webhook' } });
    const roomId = (await api(stack.gateway().httpUrl, 'POST', '/v1/rooms', { token: alice, body: { kind: 'direct', user_id: 'o-bob' } }))
      .body.id as string;
    const socket = await TestSocket.connect(stack.gateway().wsUrl, alice);
    await socket.ack({ type: 'subscribe', room_id: roomId });
    const ack = await socket.ack({ type: 'message.send', room_id: roomId, client_msg_id: 'traced', body: 'follow me' });
    await socket.next((f) => f.type === 'message.created');
    await webhook.waitFor((p) => p.body.device_token === 'o-bob-phone');

    const root = await eventually(async () => {
      const found = otlp.spans.find((s) => s.name === 'chat.ws message.send' && s.attributes['chat.room_id'] === roomId);
      expect(found).toBeDefined();
      return found as ReceivedSpan;
    });
    expect(root).toMatchObject({ service: 'gateway', parentSpanId: '' });
    const find = (trace: ReceivedSpan[], service: string, test: (s: ReceivedSpan) => boolean) =>
      trace.find((s) => s.service === service && test(s));
    // Spans are exported when they end, and a parent ends after its children: the BullMQ job span
    // that holds the webhook call arrives in a later batch than the call. The trace is complete
    // once the call is there and every span reaches the root (no orphans, checked here).
    const trace = await eventually(async () => {
      const spans = otlp.trace(root.traceId);
      expect(
        find(spans, 'notifier-worker', (s) => s.kind === 3 && String(s.attributes['url.full'] ?? '').startsWith(webhook.url)),
      ).toBeDefined();
      for (const span of spans.filter((s) => s !== root)) expect(ancestors(span, spans).at(-1)).toEqual(root);
      return spans;
    }, 15_000);

    const rpcClient = find(trace, 'gateway', (s) => s.name === 'send messages.send');
    const rpcServer = find(trace, 'messages-service', (s) => s.name === 'process messages.send');
    const store = find(trace, 'messages-service', (s) => s.name === 'messages.send store');
    // The send was stored in a batch: a root span of its own trace, linked to every send it held,
    // with the batch's SQL under it; the send's store span links back to it.
    const batch = await eventually(async () => {
      const found = otlp.spans.find((s) => s.name === 'messages.send batch' && s.spanId === store?.links[0]?.spanId);
      expect(found).toBeDefined();
      return found as ReceivedSpan;
    });
    const batchTrace = otlp.trace(batch.traceId);
    const sql = batchTrace.filter((s) => s.service === 'messages-service' && s.name.startsWith('pg.query'));
    const publish = find(trace, 'messages-service', (s) => s.name.startsWith('publish ') && s.kind === 4);
    const fanOut = find(trace, 'gateway', (s) => s.name.startsWith('process ') && s.kind === 5);
    const decision = find(trace, 'notifier-worker', (s) => s.name.startsWith('process ') && s.kind === 5);
    const webhookCall = find(
      trace,
      'notifier-worker',
      (s) => s.kind === 3 && String(s.attributes['url.full'] ?? '').startsWith(webhook.url),
    );
    for (const span of [rpcClient, rpcServer, store, publish, fanOut, decision, webhookCall]) expect(span).toBeDefined();
    expect(sql.length).toBeGreaterThan(0);

    // Parent/child links: each hop is a child of the one that caused it.
    expect(rpcClient?.parentSpanId).toBe(root.spanId);
    expect(rpcServer?.parentSpanId).toBe(rpcClient?.spanId);
    expect(ancestors(store as ReceivedSpan, trace)).toContainEqual(rpcServer);
    expect(batch.parentSpanId).toBe('');
    expect(batch.links).toContainEqual({ traceId: root.traceId, spanId: rpcServer?.spanId });
    for (const query of sql) expect(ancestors(query, batchTrace)).toContainEqual(batch);
    expect(ancestors(publish as ReceivedSpan, trace)).toContainEqual(rpcServer);
    expect(fanOut?.parentSpanId).toBe(publish?.spanId);
    expect(decision?.parentSpanId).toBe(publish?.spanId);
    expect(ancestors(webhookCall as ReceivedSpan, trace)).toContainEqual(decision);
    // Room ids travel as attributes; bodies never do.
    expect(
      trace
        .filter((s) => JSON.stringify(s).includes('follow me'))
        .map((s) => [s.service, s.name, JSON.stringify(s.attributes).slice(0, 300)]),
    ).toEqual([]);
    expect(fanOut?.attributes).toMatchObject({
      'messaging.system': 'nats',
      'chat.room_id': roomId,
      'chat.seq': (ack.message as { seq: number }).seq,
    });

    // Device tokens (in the device route's path, in push bodies) appear in no span.
    expect(otlp.spans.filter((s) => JSON.stringify(s).includes('o-bob-phone')).map((s) => [s.service, s.name])).toEqual([]);

    // A log line written while handling the message carries its trace id.
    const notifier = stack.processes.find((p) => p.name === 'notifier-worker');
    const decisionLog = await notifier?.waitForLine((l) => l.msg === 'push decision' && l.room_id === roomId);
    expect(decisionLog?.trace_id).toBe(root.traceId);
    expect(typeof decisionLog?.span_id).toBe('string');
    await socket.close();
  });
});

describe('one trace per edit, reaction and acknowledgement', () => {
  it('links the socket frame, the messages service and its SQL, the publish and the fan-out on two gateways', async () => {
    // A group room: its creator owns it, and owners may ask for acknowledgements.
    const roomId = (
      await api(stack.gateway().httpUrl, 'POST', '/v1/rooms', {
        token: alice,
        body: { kind: 'group', title: 'traced', member_ids: ['o-bob'] },
      })
    ).body.id as string;
    // Bob reads on a second gateway: each gateway that serves the room fans the event out in the same trace.
    const second = await stack.startGateway();
    const socket = await TestSocket.connect(stack.gateway().wsUrl, alice);
    const watcher = await TestSocket.connect(second.wsUrl, bob);
    await socket.ack({ type: 'subscribe', room_id: roomId });
    await watcher.ack({ type: 'subscribe', room_id: roomId });
    const sent = await socket.ack({ type: 'message.send', room_id: roomId, client_msg_id: 'to-edit', body: 'first words' });
    const messageId = (sent.message as { id: string }).id;
    const askedAck = await socket.ack({
      type: 'message.send',
      room_id: roomId,
      client_msg_id: 'to-acknowledge',
      body: 'please confirm',
      ack_requested: true,
    });
    const askingId = (askedAck.message as { id: string }).id;
    await watcher.next((f) => f.type === 'message.created');
    await watcher.next((f) => f.type === 'message.created');

    const actions = [
      {
        by: socket,
        frame: { type: 'message.edit', room_id: roomId, message_id: messageId, body: 'better words' },
        event: 'message.updated',
        rpc: 'messages.edit',
      },
      {
        by: socket,
        frame: { type: 'reaction.add', room_id: roomId, message_id: messageId, emoji: '👍' },
        event: 'reaction.updated',
        rpc: 'messages.react',
      },
      {
        by: socket,
        frame: { type: 'reaction.remove', room_id: roomId, message_id: messageId, emoji: '👍' },
        event: 'reaction.updated',
        rpc: 'messages.react',
      },
      // Bob acknowledges on the second gateway: the trace starts there and still reaches both.
      {
        by: watcher,
        frame: { type: 'message.acknowledge', room_id: roomId, message_id: askingId },
        event: 'message.acknowledged',
        rpc: 'messages.acknowledge',
      },
    ];
    for (const action of actions) {
      await action.by.ack(action.frame);
      const event = await watcher.next((f) => f.type === action.event);
      const seq = event.seq as number;
      const root = await eventually(async () => {
        const found = otlp.spans.find((s) => s.name === `chat.ws ${action.frame.type}` && s.attributes['chat.room_id'] === roomId);
        expect(found).toBeDefined();
        return found as ReceivedSpan;
      });
      expect(root).toMatchObject({ service: 'gateway', parentSpanId: '' });
      // Complete once both gateways' fan-out spans are in and every span reaches the root.
      const trace = await eventually(async () => {
        const spans = otlp.trace(root.traceId);
        const fanOuts = spans.filter((s) => s.service === 'gateway' && s.kind === 5 && s.attributes['chat.seq'] === seq);
        expect(fanOuts).toHaveLength(2);
        for (const span of spans.filter((s) => s !== root)) expect(ancestors(span, spans).at(-1)).toEqual(root);
        return spans;
      }, 15_000);
      const label = action.frame.type;
      const rpcClient = trace.find((s) => s.service === 'gateway' && s.name === `send ${action.rpc}`);
      const rpcServer = trace.find((s) => s.service === 'messages-service' && s.name === `process ${action.rpc}`);
      expect(rpcClient?.parentSpanId, label).toBe(root.spanId);
      expect(rpcServer?.parentSpanId, label).toBe(rpcClient?.spanId);
      // The change and its event are written in the request's own transaction: its SQL is in this trace.
      const sql = trace.filter((s) => s.service === 'messages-service' && s.name.startsWith('pg.query'));
      expect(sql.length, label).toBeGreaterThan(0);
      for (const query of sql) expect(ancestors(query, trace), label).toContainEqual(rpcServer);
      const publish = trace.find((s) => s.service === 'messages-service' && s.kind === 4 && s.attributes['chat.seq'] === seq);
      expect(publish, label).toBeDefined();
      for (const fanOut of trace.filter((s) => s.service === 'gateway' && s.kind === 5)) {
        expect(fanOut.parentSpanId, label).toBe(publish?.spanId);
        expect(fanOut.attributes).toMatchObject({ 'messaging.system': 'nats', 'chat.room_id': roomId, 'chat.seq': seq });
      }
      // The rooms projection takes events in batches: its span is in this trace, or links to it.
      await eventually(async () => {
        const projection = otlp.spans.find(
          (s) =>
            s.service === 'rooms-service' &&
            s.kind === 5 &&
            (s.traceId === root.traceId || s.links.some((l) => l.traceId === root.traceId)),
        );
        expect(projection, label).toBeDefined();
      });
      expect(trace.filter((s) => JSON.stringify(s).includes('better words'))).toEqual([]);
    }
    await Promise.all([socket.close(), watcher.close()]);
    second.process.child.kill('SIGTERM');
    await second.process.waitForExit();
  });
});

describe('graceful shutdown', () => {
  it('fails readiness first, then closes sockets with 1012, on SIGTERM', async () => {
    const gateway = await stack.startGateway();
    const sockets = await Promise.all([alice, bob, alice].map((token) => TestSocket.connect(gateway.wsUrl, token)));
    let closedAt = 0;
    void Promise.all(sockets.map((s) => s.closed)).then(() => {
      closedAt = Date.now();
    });
    expect((await fetch(`${gateway.httpUrl}/readyz`)).status).toBe(200);
    gateway.process.child.kill('SIGTERM');
    const notReady = await eventually(
      async () => {
        const response = await fetch(`${gateway.httpUrl}/readyz`);
        expect(response.status).toBe(503);
        return { at: Date.now(), body: (await response.json()) as Record<string, unknown> };
      },
      5000,
      20,
    );
    expect(notReady.body).toMatchObject({ status: 'not_ready', shutting_down: true });
    expect(closedAt).toBe(0); // readiness failed while the listeners still served
    const codes = await Promise.all(sockets.map(async (s) => (await s.closed).code));
    expect(codes).toEqual([1012, 1012, 1012]);
    expect(await gateway.process.waitForExit()).toBe(0);
    await expect(fetch(`${gateway.httpUrl}/readyz`)).rejects.toThrow();
  });
});
