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
    const trace = await eventually(async () => {
      const spans = otlp.trace(root.traceId);
      expect(
        find(spans, 'notifier-worker', (s) => s.kind === 3 && String(s.attributes['url.full'] ?? '').startsWith(webhook.url)),
      ).toBeDefined();
      return spans;
    }, 15_000);

    const rpcClient = find(trace, 'gateway', (s) => s.name === 'send messages.send');
    const rpcServer = find(trace, 'messages-service', (s) => s.name === 'process messages.send');
    const sql = trace.filter((s) => s.service === 'messages-service' && s.name.startsWith('pg.query'));
    const publish = find(trace, 'messages-service', (s) => s.name.startsWith('publish ') && s.kind === 4);
    const fanOut = find(trace, 'gateway', (s) => s.name.startsWith('process ') && s.kind === 5);
    const decision = find(trace, 'notifier-worker', (s) => s.name.startsWith('process ') && s.kind === 5);
    const webhookCall = find(
      trace,
      'notifier-worker',
      (s) => s.kind === 3 && String(s.attributes['url.full'] ?? '').startsWith(webhook.url),
    );
    for (const span of [rpcClient, rpcServer, publish, fanOut, decision, webhookCall]) expect(span).toBeDefined();
    expect(sql.length).toBeGreaterThan(0);

    // Parent/child links: each hop is a child of the one that caused it.
    expect(rpcClient?.parentSpanId).toBe(root.spanId);
    expect(rpcServer?.parentSpanId).toBe(rpcClient?.spanId);
    for (const query of sql) expect(ancestors(query, trace)).toContainEqual(rpcServer);
    expect(ancestors(publish as ReceivedSpan, trace)).toContainEqual(rpcServer);
    expect(fanOut?.parentSpanId).toBe(publish?.spanId);
    expect(decision?.parentSpanId).toBe(publish?.spanId);
    expect(ancestors(webhookCall as ReceivedSpan, trace)).toContainEqual(decision);
    // No orphans: every span reaches the socket frame's root span.
    for (const span of trace.filter((s) => s !== root)) expect(ancestors(span, trace).at(-1)).toEqual(root);
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

    // A log line written while handling the message carries its trace id.
    const notifier = stack.processes.find((p) => p.name === 'notifier-worker');
    const decisionLog = await notifier?.waitForLine((l) => l.msg === 'push decision' && l.room_id === roomId);
    expect(decisionLog?.trace_id).toBe(root.traceId);
    expect(typeof decisionLog?.span_id).toBe('string');
    await socket.close();
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
