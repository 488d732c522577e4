import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { eventually } from '../support/eventually.js';
import { api } from '../support/http.js';
import { TestSocket } from '../support/socket-client.js';
import { mintToken, type StackProcess, TestStack } from '../support/test-stack.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const monitoring = join(root, 'deploy', 'k8s', 'monitoring');
const dashboardsDir = join(root, 'deploy', 'grafana', 'dashboards');

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  annotations?: Record<string, string>;
}
const rulesObject = parseYaml(readFileSync(join(monitoring, 'prometheus-rules.yaml'), 'utf8')) as {
  kind: string;
  spec: { groups: Array<{ name: string; rules: Rule[] }> };
};
const rules = rulesObject.spec.groups.flatMap((g) => g.rules);
const alerts = rules.flatMap((r) => (r.alert ? [r.alert] : []));

interface Panel {
  type: string;
  title: string;
  targets?: Array<{ expr: string }>;
}
const dashboards = readdirSync(dashboardsDir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({ file: f, body: JSON.parse(readFileSync(join(dashboardsDir, f), 'utf8')) as { uid: string; panels: Panel[] } }));

/** Metric names in a PromQL expression (ours, Node's and the process's; never label names or values). */
function metricNames(expr: string): string[] {
  const withoutStrings = expr.replace(/"[^"]*"/g, '""');
  return [...withoutStrings.matchAll(/\b((?:chat|nodejs|process)_[a-z0-9_]+)\b(?!\s*(?:=|!=|=~|!~))/g)].map((m) => m[1] as string);
}

describe('alert rules', () => {
  it('pass promtool check rules', async () => {
    expect(rulesObject.kind).toBe('PrometheusRule');
    const dir = mkdtempSync(join(tmpdir(), 'chat-rules-'));
    try {
      const file = join(dir, 'rules.yaml');
      writeFileSync(file, stringifyYaml(rulesObject.spec));
      const { stdout } = await promisify(execFile)('promtool', ['check', 'rules', file]);
      expect(stdout).toContain(`SUCCESS: ${rules.length} rules found`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('have a runbook section per alert in docs/operations.md, and no section without its alert', () => {
    const operations = readFileSync(join(root, 'docs', 'operations.md'), 'utf8');
    const runbooks = operations.slice(operations.indexOf('## Alerts and runbooks'));
    expect(runbooks.length).toBeGreaterThan(100);
    const sections = [...runbooks.matchAll(/^### (\S+)$/gm)].map((m) => m[1]);
    expect(alerts.length).toBeGreaterThanOrEqual(10);
    expect([...sections].sort()).toEqual([...alerts].sort());
    for (const rule of rules.filter((r) => r.alert)) {
      expect(rule.annotations?.runbook_url, rule.alert).toMatch(new RegExp(`docs/operations\\.md#${rule.alert?.toLowerCase()}$`));
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
    }
  });
});

describe('autoscaling metrics', () => {
  type Hpa = {
    kind: string;
    metadata: { name: string };
    spec: {
      metrics: Array<{
        pods?: { metric: { name: string } };
        external?: { metric: { name: string; selector?: { matchLabels: Record<string, string> } } };
      }>;
    };
  };
  const hpas = ['gateway.yaml', 'notifier-worker.yaml']
    .flatMap((f) => parseAllDocuments(readFileSync(join(root, 'deploy', 'k8s', 'base', f), 'utf8')).map((d) => d.toJS() as Hpa))
    .filter((o) => o.kind === 'HorizontalPodAutoscaler');
  const values = parseYaml(readFileSync(join(monitoring, 'prometheus-adapter-values.yaml'), 'utf8')) as {
    rules: Record<'custom' | 'external', Array<{ seriesQuery: string; name: { as: string }; metricsQuery: string }>>;
  };

  it('are served by the prometheus-adapter rules, with the labels the HPAs select on', () => {
    const pods = hpas.flatMap((h) => h.spec.metrics.flatMap((m) => (m.pods ? [m.pods.metric.name] : [])));
    const external = hpas.flatMap((h) => h.spec.metrics.flatMap((m) => (m.external ? [m.external.metric] : [])));
    expect(pods).toEqual(['chat_gateway_connections']);
    expect(external.map((m) => m.name)).toEqual(['chat_push_queue_jobs']);
    for (const name of pods) {
      const rule = values.rules.custom.find((r) => r.name.as === name);
      expect(rule?.seriesQuery, name).toContain(`${name}{`);
      expect(rule?.seriesQuery).toContain('pod!=""');
    }
    for (const metric of external) {
      const rule = values.rules.external.find((r) => r.name.as === metric.name);
      expect(rule?.seriesQuery, metric.name).toContain(`${metric.name}{`);
      for (const label of Object.keys(metric.selector?.matchLabels ?? {})) expect(rule?.seriesQuery).toContain(`${label}!=""`);
    }
  });
});

describe('dashboards and rules against a running stack', () => {
  let stack: TestStack;
  const alice = mintToken('m-alice', { name: 'Alice' });
  const bob = mintToken('m-bob', { name: 'Bob' });

  beforeAll(async () => {
    stack = new TestStack({ gateways: 1, notifier: { NOTIFY_COALESCE_MS: '100' } });
    await stack.start();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  /** The /metrics URL of each process, from its logs (the gateway's ops port when it has one). */
  function metricsUrls(): string[] {
    return stack.processes.map((proc: StackProcess) => {
      const gatewayReady = proc.lines.find((l) => l.msg === 'gateway ready');
      if (gatewayReady) return `http://127.0.0.1:${gatewayReady.ops_port ?? gatewayReady.http_port}/metrics`;
      const ops = proc.lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('ops endpoints listening'));
      if (!ops) throw new Error(`${proc.name}: no ops port in its logs`);
      return `http://127.0.0.1:${ops.port}/metrics`;
    });
  }

  async function scrape(): Promise<string[]> {
    return Promise.all(
      metricsUrls().map(async (url) => {
        const response = await fetch(url);
        expect(response.status, url).toBe(200);
        return response.text();
      }),
    );
  }

  /** One sample's value: the sum over matching series in every process's output. */
  function sample(texts: string[], name: string, labels: Record<string, string> = {}): number | undefined {
    let found: number | undefined;
    for (const line of texts.join('\n').split('\n')) {
      if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
      if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
      found = (found ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return found;
  }

  it('exports every metric a dashboard panel or an alert rule queries', async () => {
    const texts = await scrape();
    const types = new Map<string, string>();
    for (const text of texts) for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) types.set(m[1] as string, m[2] as string);
    const exported = (name: string) => {
      if (types.has(name)) return true;
      const base = name.replace(/_(bucket|count|sum)$/, '');
      return base !== name && ['histogram', 'summary'].includes(types.get(base) ?? '');
    };
    const used = new Map<string, string>();
    for (const rule of rules) for (const name of metricNames(rule.expr)) used.set(name, `rule ${rule.alert ?? rule.record}`);
    for (const { file, body } of dashboards) {
      expect(body.panels.length, file).toBeGreaterThan(3);
      for (const panel of body.panels)
        for (const target of panel.targets ?? []) for (const name of metricNames(target.expr)) used.set(name, `${file}: ${panel.title}`);
    }
    expect(used.size).toBeGreaterThan(30);
    const missing = [...used].filter(([name]) => !exported(name)).map(([name, where]) => `${name} (${where})`);
    expect(missing).toEqual([]);
  });

  it('counts replays and gap sizes, and reports outbox depth and consumer lag draining to zero', async () => {
    const http = stack.gateway().httpUrl;
    const roomId = (await api(http, 'POST', '/v1/rooms', { token: alice, body: { kind: 'direct', user_id: 'm-bob' } })).body.id as string;
    const sender = await TestSocket.connect(stack.gateway().wsUrl, alice);
    await sender.ack({ type: 'subscribe', room_id: roomId });
    let last = 0;
    for (let i = 0; i < 3; i++) {
      const ack = await sender.ack({ type: 'message.send', room_id: roomId, client_msg_id: `m-${i}`, body: `hello ${i}` });
      last = (ack.message as { seq: number }).seq;
    }
    await sender.next((f) => f.type === 'message.created' && f.seq === last);

    const before = await scrape();
    const resuming = await TestSocket.connect(stack.gateway().wsUrl, bob);
    await resuming.ack({ type: 'subscribe', room_id: roomId, since_seq: 0 });
    await resuming.next((f) => f.type === 'message.created' && f.seq === last);
    const after = await scrape();

    const delta = (name: string, labels: Record<string, string> = {}) =>
      (sample(after, name, labels) ?? 0) - (sample(before, name, labels) ?? 0);
    // Everything from seq 1 was missed and replayed: the three messages and what the room began with.
    expect(last).toBeGreaterThanOrEqual(3);
    expect(delta('chat_gateway_replayed_events_total')).toBe(last);
    expect(delta('chat_gateway_replayed_bytes_total')).toBeGreaterThan(3 * 'hello 0'.length);
    expect(delta('chat_gateway_subscribe_recoveries_total', { outcome: 'replayed' })).toBe(1);
    expect(delta('chat_gateway_recovery_gap_events_count')).toBe(1);
    expect(delta('chat_gateway_recovery_gap_events_sum')).toBe(last);

    await eventually(async () => {
      const texts = await scrape();
      expect(sample(texts, 'chat_outbox_depth')).toBe(0);
      for (const consumer of [`${stack.namespace}_rooms_projection`, `${stack.namespace}_notifier`]) {
        expect(sample(texts, 'chat_jetstream_consumer_info_up', { consumer })).toBe(1);
        expect(sample(texts, 'chat_jetstream_consumer_pending_messages', { consumer })).toBe(0);
        expect(sample(texts, 'chat_jetstream_consumer_ack_pending_messages', { consumer })).toBe(0);
        expect(sample(texts, 'chat_jetstream_consumer_ack_floor_sequence', { consumer })).toBeGreaterThanOrEqual(last);
      }
      expect(sample(texts, 'chat_postgres_max_connections')).toBeGreaterThan(0);
      // The sends above were stored on the messages service's send pool, reported beside its main pool.
      expect(sample(texts, 'chat_db_pool_connections', { pool: 'send', state: 'total' })).toBeGreaterThan(0);
      expect(sample(texts, 'chat_db_pool_connections', { pool: 'main', state: 'total' })).toBeGreaterThan(0);
    });
    await Promise.all([sender.close(), resuming.close()]);
    await eventually(async () => expect(sample(await scrape(), 'chat_gateway_socket_closes_total')).toBe(2));
  });
});
