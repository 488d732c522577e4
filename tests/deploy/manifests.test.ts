import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KNOWN_PLACEHOLDER_SECRETS } from '@chat/shared/auth';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { z } from 'zod';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const k8s = join(root, 'deploy', 'k8s');
type K8sObject = { apiVersion: string; kind: string; metadata: { name: string }; spec?: Record<string, unknown>; [key: string]: unknown };

/** Each kind we ship, validated against the Kubernetes OpenAPI schema by kubernetes-models. */
const validators: Record<string, (o: K8sObject) => void> = {
  'apps/v1/Deployment': (o) => new Deployment(o as never).validate(),
  'v1/Service': (o) => new Service(o as never).validate(),
  'v1/ConfigMap': (o) => new ConfigMap(o as never).validate(),
  'v1/Secret': (o) => new Secret(o as never).validate(),
  'autoscaling/v2/HorizontalPodAutoscaler': (o) => new HorizontalPodAutoscaler(o as never).validate(),
  'policy/v1/PodDisruptionBudget': (o) => new PodDisruptionBudget(o as never).validate(),
  'networking.k8s.io/v1/NetworkPolicy': (o) => new NetworkPolicy(o as never).validate(),
};

function loadObjects(file: string): K8sObject[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS() as K8sObject)
    .filter(Boolean);
}

function kustomization(dir: string): Record<string, unknown> {
  return parseYaml(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as Record<string, unknown>;
}

function baseObjects(): K8sObject[] {
  const resources = kustomization(join(k8s, 'base')).resources as string[];
  return resources.flatMap((file) => loadObjects(join(k8s, 'base', file)));
}

/** Strategic merge as kustomize does it for these shapes: maps merge, lists of named items merge by name. */
function merge(base: unknown, patch: unknown): unknown {
  if (Array.isArray(base) && Array.isArray(patch)) {
    if (!patch.every((item) => typeof item === 'object' && item !== null && 'name' in item)) return patch;
    const out = base.map((item) => ({ ...item }));
    for (const item of patch as Array<{ name: string }>) {
      const index = out.findIndex((b: { name?: string }) => b.name === item.name);
      if (index === -1) out.push(item);
      else out[index] = merge(out[index], item);
    }
    return out;
  }
  if (typeof base === 'object' && base !== null && typeof patch === 'object' && patch !== null && !Array.isArray(patch)) {
    const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
    for (const [key, value] of Object.entries(patch)) out[key] = key in out ? merge(out[key], value) : value;
    return out;
  }
  return patch;
}

function overlayObjects(overlay: string): K8sObject[] {
  const dir = join(k8s, 'overlays', overlay);
  const spec = kustomization(dir) as { resources: string[]; patches?: Array<{ path?: string; target?: { kind: string }; patch?: string }> };
  expect(spec.resources).toEqual(['../../base']);
  let objects = baseObjects();
  for (const patch of spec.patches ?? []) {
    if (patch.path) {
      for (const partial of loadObjects(join(dir, patch.path))) {
        const target = objects.find((o) => o.kind === partial.kind && o.metadata.name === partial.metadata.name);
        expect(target, `${overlay}: ${patch.path} patches ${partial.kind}/${partial.metadata.name}`).toBeDefined();
        objects = objects.map((o) => (o === target ? (merge(o, partial) as K8sObject) : o));
      }
    } else if (patch.target && patch.patch) {
      const ops = parseYaml(patch.patch) as Array<{ op: string; path: string; value: unknown }>;
      objects = objects.map((o) => {
        if (o.kind !== patch.target?.kind) return o;
        const copy = structuredClone(o) as Record<string, unknown>;
        for (const op of ops) {
          const keys = op.path.split('/').slice(1);
          let node = copy;
          for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
          node[keys.at(-1) as string] = op.value;
        }
        return copy as K8sObject;
      });
    }
  }
  return objects;
}

function validateAll(objects: K8sObject[]): void {
  for (const object of objects) {
    const validate = validators[`${object.apiVersion}/${object.kind}`];
    expect(validate, `no validator for ${object.apiVersion} ${object.kind}`).toBeDefined();
    expect(() => validate?.(object), `${object.kind}/${object.metadata.name}`).not.toThrow();
  }
}

describe('Kubernetes manifests', () => {
  it('base resources are valid Kubernetes objects', () => {
    const objects = baseObjects();
    expect(objects.length).toBeGreaterThan(15);
    validateAll(objects);
  });

  it.each(readdirSync(join(k8s, 'overlays')))('overlay %s renders to valid objects', (overlay) => {
    validateAll(overlayObjects(overlay));
  });

  it('gives every process probes, resources, a preStop pause and a grace period that covers its drain', () => {
    const config = baseObjects().find((o) => o.kind === 'ConfigMap') as unknown as { data: Record<string, string> };
    const shutdownSeconds = Number(config.data.SHUTDOWN_TIMEOUT_MS) / 1000;
    const deployments = baseObjects().filter((o) => o.kind === 'Deployment') as unknown as Deployment[];
    expect(deployments.map((d) => d.metadata?.name).sort()).toEqual(['gateway', 'messages-service', 'notifier-worker', 'rooms-service']);
    for (const deployment of deployments) {
      const pod = deployment.spec?.template.spec;
      const container = pod?.containers[0];
      expect(container?.readinessProbe?.httpGet?.path).toBe('/readyz');
      expect(container?.livenessProbe?.httpGet?.path).toBe('/healthz');
      expect(container?.resources?.requests).toBeDefined();
      const pause = Number(container?.lifecycle?.preStop?.exec?.command?.[1]);
      expect(pod?.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(pause + shutdownSeconds);
      expect(pod?.securityContext?.runAsNonRoot).toBe(true);
    }
  });

  it('keeps the gateway ops port (metrics, probes) off its Service', () => {
    const objects = baseObjects();
    const gateway = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'gateway') as unknown as Deployment;
    const container = gateway.spec?.template.spec?.containers[0];
    expect(container?.ports?.find((p) => p.name === 'ops')?.containerPort).toBe(8090);
    expect(container?.env?.find((e) => e.name === 'GATEWAY_OPS_PORT')?.value).toBe('8090');
    expect(container?.readinessProbe?.httpGet?.port).toBe('ops');
    const service = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'gateway') as unknown as Service;
    expect(service.spec?.ports?.map((p) => p.port)).not.toContain(8090);
  });

  it('pairs each Deployment with a Service, an autoscaler and a disruption budget', () => {
    const objects = baseObjects();
    for (const name of ['gateway', 'rooms-service', 'messages-service', 'notifier-worker']) {
      for (const kind of ['Service', 'HorizontalPodAutoscaler', 'PodDisruptionBudget']) {
        expect(
          objects.some((o) => o.kind === kind && o.metadata.name === name),
          `${kind}/${name}`,
        ).toBe(true);
      }
    }
    const gatewayHpa = objects.find(
      (o) => o.kind === 'HorizontalPodAutoscaler' && o.metadata.name === 'gateway',
    ) as unknown as HorizontalPodAutoscaler;
    expect(gatewayHpa.spec?.behavior?.scaleDown?.stabilizationWindowSeconds).toBeGreaterThanOrEqual(600);
    expect(gatewayHpa.spec?.metrics?.some((m) => m.pods?.metric.name === 'chat_gateway_connections')).toBe(true);
    const notifierHpa = objects.find(
      (o) => o.kind === 'HorizontalPodAutoscaler' && o.metadata.name === 'notifier-worker',
    ) as unknown as HorizontalPodAutoscaler;
    expect(notifierHpa.spec?.metrics?.[0]?.external?.metric.name).toBe('chat_push_queue_jobs');
  });

  it('takes NATS from its official chart', () => {
    const charts = kustomization(join(k8s, 'base')).helmCharts as Array<Record<string, unknown>>;
    expect(charts).toEqual([
      expect.objectContaining({
        name: 'nats',
        repo: 'https://nats-io.github.io/k8s/helm/charts/',
        version: expect.stringMatching(/^\d+\.\d+\.\d+$/),
      }),
    ]);
  });
});

describe('docker compose and Dockerfile', () => {
  const compose = parseYaml(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as Record<string, unknown>;
  const ServiceSchema = z
    .object({
      image: z.string().optional(),
      build: z.object({ context: z.string(), dockerfile: z.string(), args: z.record(z.string(), z.string()).optional() }).optional(),
      environment: z.record(z.string(), z.string()).optional(),
      ports: z.array(z.string().regex(/^\d+:\d+$/)).optional(),
      depends_on: z.union([z.array(z.string()), z.record(z.string(), z.object({ condition: z.string() }))]).optional(),
      volumes: z.array(z.string()).optional(),
    })
    .refine((s) => s.image || s.build, 'needs an image or a build');
  const ComposeSchema = z.object({ services: z.record(z.string(), ServiceSchema), volumes: z.record(z.string(), z.unknown()).optional() });

  it('is a well-formed compose file with the whole stack', () => {
    const parsed = ComposeSchema.parse(compose);
    const names = Object.keys(parsed.services);
    for (const name of [
      'gateway',
      'rooms-service',
      'messages-service',
      'notifier-worker',
      'nats',
      'postgres',
      'redis',
      'otel-collector',
      'jaeger',
    ])
      expect(names).toContain(name);
    for (const [name, service] of Object.entries(parsed.services)) {
      const deps = Array.isArray(service.depends_on) ? service.depends_on : Object.keys(service.depends_on ?? {});
      for (const dep of deps) expect(names, `${name} depends on ${dep}`).toContain(dep);
      if (service.build) {
        expect(existsSync(join(root, service.build.context, service.build.dockerfile))).toBe(true);
        expect(existsSync(join(root, service.build.args?.SERVICE ?? 'missing', 'package.json')), `${name} builds a workspace package`).toBe(
          true,
        );
      }
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0] ?? '';
        if (source.startsWith('.')) expect(existsSync(join(root, source)), `${name} mounts ${source}`).toBe(true);
        else expect(Object.keys(parsed.volumes ?? {})).toContain(source);
      }
    }
  });

  it('builds every process from the one Dockerfile, non-root, with the telemetry preload', () => {
    const dockerfile = readFileSync(join(root, 'deploy', 'docker', 'Dockerfile'), 'utf8');
    for (const dir of ['shared', 'gateway', 'rooms-service', 'messages-service', 'notifier-worker'])
      expect(dockerfile).toContain(`COPY ${dir} ${dir}`);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toContain('--prod');
    expect(dockerfile).toContain('"--import", "./dist/instrument.js"');
  });
});

describe('secrets in the manifests', () => {
  const deployFiles = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? deployFiles(join(dir, entry.name)) : /\.(ya?ml|json|env)$/.test(entry.name) ? [join(dir, entry.name)] : [],
    );

  it('ships no Secret in the base, and no published placeholder anywhere', () => {
    expect(baseObjects().filter((o) => o.kind === 'Secret')).toEqual([]);
    const config = baseObjects().find((o) => o.kind === 'ConfigMap') as unknown as { data: Record<string, string> };
    expect(config.data.S3_BUCKET).toBe('chat-attachments');
    for (const file of [...deployFiles(join(root, 'deploy')), join(root, 'docker-compose.yml')]) {
      const text = readFileSync(file, 'utf8');
      for (const placeholder of KNOWN_PLACEHOLDER_SECRETS) expect(text, file).not.toContain(placeholder);
      expect(text, file).not.toMatch(/JWT_SECRET[:=]/);
    }
  });

  it('generates the development Secret with the development mode asked for explicitly', () => {
    const dev = kustomization(join(k8s, 'overlays', 'development')) as {
      secretGenerator?: Array<{ name: string; literals?: string[] }>;
      configMapGenerator?: Array<{ name: string; literals?: string[] }>;
    };
    expect(dev.secretGenerator?.map((g) => g.name)).toEqual(['chat-secrets']);
    expect(dev.configMapGenerator?.find((g) => g.name === 'chat-config')?.literals).toContain('CHAT_DEV_MODE=1');
    const compose = parseYaml(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as { 'x-chat-env': Record<string, string> };
    expect(compose['x-chat-env'].CHAT_DEV_MODE).toBe('1');
  });

  it('makes production require an externally provided chat-secrets', () => {
    const production = kustomization(join(k8s, 'overlays', 'production'));
    expect(production.secretGenerator).toBeUndefined();
    const objects = overlayObjects('production');
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    expect(JSON.stringify(objects)).not.toContain('CHAT_DEV_MODE');
    for (const deployment of objects.filter((o) => o.kind === 'Deployment') as unknown as Deployment[]) {
      const sources = deployment.spec?.template.spec?.containers[0]?.envFrom ?? [];
      const secret = sources.find((s) => s.secretRef?.name === 'chat-secrets');
      expect(secret?.secretRef?.optional ?? false, deployment.metadata?.name).toBe(false);
    }
  });
});
