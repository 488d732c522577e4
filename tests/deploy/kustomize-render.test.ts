/**
 * Renders every kustomization with the real kustomize (the one built into kubectl, on the
 * machine image) and checks what an operator would apply: the kinds, each process's configuration
 * parsed by its own config.ts from the rendered environment, and the ports the PodMonitor and the
 * NetworkPolicies name.
 *
 * The NATS Helm chart of the base cannot be inflated here: `--enable-helm` needs the helm binary
 * and the chart's repository, and neither Debian nor npm ships helm. So each render runs on a copy
 * of deploy/ whose base lists no `helmCharts`; the chart stanza itself is checked in
 * manifests.test.ts. Without kubectl the suite is skipped and says so.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml, stringify } from 'yaml';
import { loadGatewayConfig } from '../../gateway/src/config.js';
import { loadMessagesConfig } from '../../messages-service/src/config.js';
import { loadNotifierConfig } from '../../notifier-worker/src/config.js';
import { loadRoomsConfig } from '../../rooms-service/src/config.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
const hasKustomize = kubectl.status === 0 && /Kustomize Version/.test(kubectl.stdout);
if (!hasKustomize) console.warn('kustomize-render: kubectl (with kustomize) is not installed; the rendered overlays are not checked');

interface Container {
  name: string;
  ports?: Array<{ name?: string; containerPort: number }>;
  env?: Array<{ name: string; value?: string; valueFrom?: unknown }>;
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string; optional?: boolean } }>;
  readinessProbe?: { httpGet?: { port: string | number } };
  livenessProbe?: { httpGet?: { port: string | number } };
  resources?: { limits?: { memory?: string } };
}
interface Rendered {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  data?: Record<string, string>;
  spec?: {
    template?: { metadata?: { labels?: Record<string, string> }; spec: { containers: Container[] } };
    podMetricsEndpoints?: Array<{ port: string; path: string }>;
    selector?: { matchLabels?: Record<string, string> };
    ingress?: Array<{ from?: unknown[]; ports?: Array<{ port: number | string }> }>;
  };
}

let copy = '';
function render(path: string): Rendered[] {
  const out = execFileSync('kubectl', ['kustomize', join(copy, path)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return parseAllDocuments(out)
    .map((d) => d.toJS() as Rendered)
    .filter(Boolean);
}

/**
 * Keys of `chat-secrets` that the production overlay expects to exist already (docs/operations.md,
 * "Secrets"): the render cannot hold them, so the check supplies them as the operator would.
 */
const productionSecretKeys: Record<string, string> = {
  DATABASE_URL: 'postgres://chat:secret@postgres.example:5432/chat',
  JWT_SECRET: 'k'.repeat(12) + 'a-random-secret-of-48-chars-from-openssl-rand',
};

/** The environment one container starts with: its ConfigMaps and Secrets in order, then `env`. */
function containerEnv(container: Container, objects: Rendered[], externalSecrets: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) {
      const map = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === source.configMapRef?.name);
      expect(map, `ConfigMap ${source.configMapRef.name} referenced by ${container.name}`).toBeDefined();
      Object.assign(env, map?.data);
    }
    if (source.secretRef) {
      const secret = objects.find((o) => o.kind === 'Secret' && o.metadata.name === source.secretRef?.name);
      if (secret) {
        for (const [key, value] of Object.entries(secret.data ?? {})) env[key] = Buffer.from(value, 'base64').toString('utf8');
      } else if (source.secretRef.name === 'chat-secrets') Object.assign(env, externalSecrets);
      else expect(source.secretRef.optional, `Secret ${source.secretRef.name} is neither rendered nor optional`).toBe(true);
    }
  }
  for (const variable of container.env ?? []) env[variable.name] = variable.value ?? `${variable.name.toLowerCase()}-from-the-pod`;
  return env;
}

/** Each process: its config loader, the variable of its ops port, and the servers it must not look for on localhost. */
const processes = {
  gateway: { load: loadGatewayConfig, opsPort: 'GATEWAY_OPS_PORT', remotes: ['NATS_URL', 'REDIS_URL'] },
  'rooms-service': { load: loadRoomsConfig, opsPort: 'ROOMS_HTTP_PORT', remotes: ['NATS_URL', 'DATABASE_URL'] },
  'messages-service': { load: loadMessagesConfig, opsPort: 'MESSAGES_HTTP_PORT', remotes: ['NATS_URL', 'DATABASE_URL'] },
  'notifier-worker': { load: loadNotifierConfig, opsPort: 'NOTIFIER_HTTP_PORT', remotes: ['NATS_URL', 'DATABASE_URL', 'REDIS_URL'] },
} as const;

const overlays = readdirSync(join(root, 'deploy', 'k8s', 'overlays'));

describe.skipIf(!hasKustomize)('kustomize renders', () => {
  let monitoring: Rendered[] = [];

  beforeAll(() => {
    copy = mkdtempSync(join(tmpdir(), 'chat-kustomize-'));
    cpSync(join(root, 'deploy'), join(copy, 'deploy'), { recursive: true });
    const base = join(copy, 'deploy', 'k8s', 'base', 'kustomization.yaml');
    const spec = parseYaml(readFileSync(base, 'utf8')) as Record<string, unknown>;
    expect(spec.helmCharts).toBeDefined();
    delete spec.helmCharts;
    writeFileSync(base, stringify(spec));
    monitoring = render('deploy/k8s/monitoring');
  });
  afterAll(() => {
    if (copy) rmSync(copy, { recursive: true, force: true });
  });

  it.each(overlays)('overlay %s: every kind, in its namespace, with images pinned', (overlay) => {
    const objects = render(`deploy/k8s/overlays/${overlay}`);
    const count = (kind: string) => objects.filter((o) => o.kind === kind).length;
    expect(count('Deployment')).toBe(4);
    expect(count('Service')).toBe(4);
    expect(count('HorizontalPodAutoscaler')).toBe(4);
    expect(count('PodDisruptionBudget')).toBe(4);
    expect(count('NetworkPolicy')).toBeGreaterThanOrEqual(4);
    expect(objects.some((o) => o.kind === 'ConfigMap' && o.metadata.name === 'chat-config')).toBe(true);
    const namespace = parseYaml(readFileSync(join(root, 'deploy', 'k8s', 'overlays', overlay, 'kustomization.yaml'), 'utf8')).namespace;
    for (const object of objects) {
      expect(object.metadata.namespace, `${object.kind}/${object.metadata.name}`).toBe(namespace);
      // The base's label (an overlay's generated Secret is the overlay's own).
      if (object.kind !== 'Secret')
        expect(object.metadata.labels?.['app.kubernetes.io/part-of'], `${object.kind}/${object.metadata.name}`).toBe('chat');
    }
    for (const deployment of objects.filter((o) => o.kind === 'Deployment')) {
      for (const container of deployment.spec?.template?.spec.containers ?? []) {
        expect((container as unknown as { image: string }).image).not.toMatch(/:latest$/);
      }
    }
  });

  it.each(overlays)("overlay %s: each process's config.ts accepts the rendered environment", (overlay) => {
    const objects = render(`deploy/k8s/overlays/${overlay}`);
    const externalSecrets = objects.some((o) => o.kind === 'Secret' && o.metadata.name.startsWith('chat-secrets'))
      ? {}
      : productionSecretKeys;
    for (const [name, process] of Object.entries(processes)) {
      const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === name);
      const container = deployment?.spec?.template?.spec.containers[0];
      expect(container, name).toBeDefined();
      const env = containerEnv(container as Container, objects, externalSecrets);
      // The servers come from the environment, not from the defaults that point at this machine.
      for (const remote of process.remotes) {
        expect(env[remote], `${overlay} ${name}: ${remote}`).toBeDefined();
        expect(env[remote], `${overlay} ${name}: ${remote}`).not.toMatch(/127\.0\.0\.1|localhost/);
      }
      // Throws a ConfigError naming every missing or bad variable.
      const config = process.load(env) as unknown as Record<string, unknown>;
      expect(config.NODE_ENV).toBe(overlay === 'production' ? 'production' : 'development');
      // The port the process serves /metrics and its probes on is the container port named `ops`.
      const ops = container?.ports?.find((p) => p.name === 'ops');
      expect(ops?.containerPort, `${overlay} ${name}: port ops`).toBe(config[process.opsPort]);
      expect(container?.readinessProbe?.httpGet?.port).toBe('ops');
      expect(container?.livenessProbe?.httpGet?.port).toBe('ops');
    }
  });

  it.each(overlays)("overlay %s: each process's V8 heap is capped below its memory limit, with room for native memory", (overlay) => {
    const objects = render(`deploy/k8s/overlays/${overlay}`);
    const mebibytes = (quantity: string) => {
      const match = /^(\d+)(Mi|Gi)$/.exec(quantity);
      if (!match) throw new Error(`unexpected memory quantity ${quantity}`);
      return Number(match[1]) * (match[2] === 'Gi' ? 1024 : 1);
    };
    for (const deployment of objects.filter((o) => o.kind === 'Deployment')) {
      const container = deployment.spec?.template?.spec.containers[0] as Container;
      const limit = container.resources?.limits?.memory;
      expect(limit, `${overlay} ${deployment.metadata.name}: a memory limit`).toBeDefined();
      const options = container.env?.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '';
      const heap = Number(/--max-old-space-size=(\d+)/.exec(options)?.[1]);
      const share = heap / mebibytes(limit as string);
      expect(share, `${overlay} ${deployment.metadata.name}: --max-old-space-size ${heap} MiB of a ${limit} limit`).toBeGreaterThanOrEqual(
        0.5,
      );
      expect(share, `${overlay} ${deployment.metadata.name}: --max-old-space-size ${heap} MiB of a ${limit} limit`).toBeLessThanOrEqual(
        0.75,
      );
    }
  });

  it.each(overlays)('overlay %s: the PodMonitor and the scraping NetworkPolicy reach every ops port', (overlay) => {
    const objects = render(`deploy/k8s/overlays/${overlay}`);
    const podMonitor = monitoring.find((o) => o.kind === 'PodMonitor');
    const endpoint = podMonitor?.spec?.podMetricsEndpoints?.[0];
    expect(endpoint).toMatchObject({ port: 'ops', path: '/metrics' });
    const scraping = objects.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'metrics-scraping');
    const allowed = (scraping?.spec?.ingress ?? []).flatMap((rule) => (rule.ports ?? []).map((p) => p.port));
    for (const deployment of objects.filter((o) => o.kind === 'Deployment')) {
      const labels = deployment.spec?.template?.metadata?.labels ?? {};
      for (const [key, value] of Object.entries(podMonitor?.spec?.selector?.matchLabels ?? {})) {
        expect(labels[key], `${deployment.metadata.name}: pod label ${key} for the PodMonitor`).toBe(value);
      }
      const ops = deployment.spec?.template?.spec.containers[0]?.ports?.find((p) => p.name === 'ops');
      expect(ops, `${deployment.metadata.name}: a port named ops`).toBeDefined();
      expect(allowed, `${deployment.metadata.name}: ops port open to Prometheus`).toContain(ops?.containerPort);
    }
    // The gateway's public ports stay public and its ops port stays off its Service.
    const gatewayService = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'gateway') as unknown as {
      spec: { ports: Array<{ name: string }> };
    };
    expect(gatewayService.spec.ports.map((p) => p.name).sort()).toEqual(['http', 'ws']);
  });

  it('monitoring: the rules, the PodMonitor and the dashboards ConfigMap', () => {
    const kinds = monitoring.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    expect(kinds).toEqual(['ConfigMap/chat-grafana-dashboards', 'PodMonitor/chat', 'PrometheusRule/chat-alerts']);
    for (const object of monitoring) expect(object.metadata.namespace).toBe('monitoring');
    const dashboards = monitoring.find((o) => o.kind === 'ConfigMap');
    expect(dashboards?.metadata.labels?.grafana_dashboard).toBe('1');
    const files = readdirSync(join(root, 'deploy', 'grafana', 'dashboards')).sort();
    expect(Object.keys(dashboards?.data ?? {}).sort()).toEqual(files);
    for (const file of files) expect(() => JSON.parse(dashboards?.data?.[file] ?? '')).not.toThrow();
  });
});
