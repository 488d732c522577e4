import { readFileSync } from 'node:fs';
import { join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

// The registry's audit endpoint does not answer from the build machines, so the lockfile is checked
// here against the advisories known for the packages of the production tree (collected from the
// GitHub advisory database; see docs/operations.md, "Dependency audit"). Add an entry when a new
// advisory is published; the test then names every package to lift.
const root = fileURLToPath(new URL('../..', import.meta.url));
const processes = ['gateway', 'rooms-service', 'messages-service', 'notifier-worker'];

/** [introduced, fixed): versions from `introduced` up to, not including, `fixed` are affected. */
type Range = readonly [string, string];
interface Advisory {
  id: string;
  name: string;
  affected: readonly Range[];
}

export const ADVISORIES: readonly Advisory[] = [
  {
    id: 'GHSA-3h5v-q93c-6h6q',
    name: 'ws',
    affected: [
      ['2.1.0', '5.2.4'],
      ['6.0.0', '6.2.3'],
      ['7.0.0', '7.5.10'],
      ['8.0.0', '8.17.1'],
    ],
  },
  { id: 'GHSA-8cf7-32gw-wr33', name: 'jsonwebtoken', affected: [['0.0.0', '9.0.0']] },
  { id: 'GHSA-hjrf-2m68-5959', name: 'jsonwebtoken', affected: [['0.0.0', '9.0.0']] },
  { id: 'GHSA-qwph-4952-7xr6', name: 'jsonwebtoken', affected: [['0.0.0', '9.0.0']] },
  {
    id: 'GHSA-869p-cjfg-cm3x',
    name: 'jws',
    affected: [
      ['0.0.0', '3.2.3'],
      ['4.0.0', '4.0.1'],
    ],
  },
  { id: 'GHSA-rv95-896h-c2vc', name: 'express', affected: [['0.0.0', '4.19.2']] },
  { id: 'GHSA-qw6h-vgh9-j6wx', name: 'express', affected: [['0.0.0', '4.20.0']] },
  { id: 'GHSA-qwcr-r2fm-qrc7', name: 'body-parser', affected: [['0.0.0', '1.20.3']] },
  { id: 'GHSA-wqch-xfxh-vrr4', name: 'body-parser', affected: [['2.2.0', '2.2.1']] },
  {
    id: 'GHSA-9wv6-86v2-598j',
    name: 'path-to-regexp',
    affected: [
      ['0.0.0', '0.1.10'],
      ['0.2.0', '1.9.0'],
      ['2.0.0', '3.3.0'],
      ['4.0.0', '6.3.0'],
    ],
  },
  { id: 'GHSA-rhx6-c78j-4q9w', name: 'path-to-regexp', affected: [['0.0.0', '0.1.12']] },
  { id: 'GHSA-37ch-88jc-xwx2', name: 'path-to-regexp', affected: [['0.0.0', '0.1.13']] },
  { id: 'GHSA-j3q9-mxjg-w52f', name: 'path-to-regexp', affected: [['8.0.0', '8.4.0']] },
  { id: 'GHSA-27v5-c462-wpq7', name: 'path-to-regexp', affected: [['8.0.0', '8.4.0']] },
  { id: 'GHSA-pxg6-pf52-xh8x', name: 'cookie', affected: [['0.0.0', '0.7.0']] },
  { id: 'GHSA-m6fv-jmcg-4jfg', name: 'send', affected: [['0.0.0', '0.19.0']] },
  {
    id: 'GHSA-cm22-4g7w-348p',
    name: 'serve-static',
    affected: [
      ['0.0.0', '1.16.0'],
      ['2.0.0', '2.1.0'],
    ],
  },
  { id: 'GHSA-6rw7-vpxm-498p', name: 'qs', affected: [['0.0.0', '6.14.1']] },
  { id: 'GHSA-w7fw-mjwx-w883', name: 'qs', affected: [['0.0.0', '6.14.2']] },
  {
    id: 'GHSA-g9mf-h72j-4rw9',
    name: 'undici',
    affected: [
      ['0.0.0', '6.23.0'],
      ['7.0.0', '7.18.2'],
    ],
  },
  {
    id: 'GHSA-35p6-xmwp-9g52',
    name: 'undici',
    affected: [
      ['0.0.0', '6.27.0'],
      ['7.0.0', '7.28.0'],
    ],
  },
  {
    id: 'GHSA-m5qc-5hw7-8vg7',
    name: 'image-size',
    affected: [
      ['1.1.0', '1.2.1'],
      ['2.0.0', '2.0.2'],
    ],
  },
  { id: 'GHSA-w3rx-r6r6-pgpr', name: 'image-size', affected: [['0.6.3', '2.0.3']] },
  { id: 'GHSA-5p2g-fcmc-qvqq', name: 'image-size', affected: [['1.2.0', '2.0.3']] },
  { id: 'CVE-2026-31808', name: 'file-type', affected: [['13.0.0', '21.3.1']] },
  { id: 'GHSA-jmr7-xgp7-cmfj', name: 'fast-xml-parser', affected: [['4.1.3', '5.3.6']] },
  { id: 'GHSA-8gc5-j5rx-235r', name: 'fast-xml-parser', affected: [['4.0.0', '5.5.6']] },
  { id: 'GHSA-wc9v-mj63-m9g5', name: 'pg', affected: [['0.0.0', '7.1.2']] },
  {
    id: 'GHSA-3xgq-45jj-v275',
    name: 'cross-spawn',
    affected: [
      ['0.0.0', '6.0.6'],
      ['7.0.0', '7.0.5'],
    ],
  },
  {
    id: 'GHSA-v6h2-p8h4-qcjw',
    name: 'brace-expansion',
    affected: [
      ['1.0.0', '1.1.12'],
      ['2.0.0', '2.0.2'],
    ],
  },
  {
    id: 'GHSA-c2qf-rxjj-qqgw',
    name: 'semver',
    affected: [
      ['0.0.0', '5.7.2'],
      ['6.0.0', '6.3.1'],
      ['7.0.0', '7.5.2'],
    ],
  },
  { id: 'GHSA-52f5-9888-hmc6', name: 'tmp', affected: [['0.0.0', '0.2.4']] },
];

/** Numeric x.y.z comparison; a pre-release tag sorts before its release. */
function compare(a: string, b: string): number {
  const parse = (v: string) => {
    const [core = '', pre] = v.split('-', 2);
    return { parts: core.split('.').map((n) => Number.parseInt(n, 10) || 0), pre };
  };
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < 3; i++) {
    const d = (x.parts[i] ?? 0) - (y.parts[i] ?? 0);
    if (d !== 0) return d;
  }
  if (x.pre && !y.pre) return -1;
  if (!x.pre && y.pre) return 1;
  return 0;
}

const isAffected = (version: string, ranges: readonly Range[]) =>
  ranges.some(([from, fixed]) => compare(version, from) >= 0 && compare(version, fixed) < 0);

interface Lockfile {
  overrides?: Record<string, string>;
  importers: Record<string, { dependencies?: Record<string, { version: string }> }>;
  snapshots: Record<string, { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> }>;
}

const lock = parseYaml(readFileSync(join(root, 'pnpm-lock.yaml'), 'utf8')) as Lockfile;

/** `name@version(peers…)` → [name, version]; the name may be scoped. */
function splitKey(key: string): [string, string] {
  const bare = key.replace(/\(.*$/, '');
  const at = bare.lastIndexOf('@');
  return [bare.slice(0, at), bare.slice(at + 1)];
}

/** Every package (name → versions) reachable from the processes' production dependencies. */
function productionTree(): Map<string, Set<string>> {
  const found = new Map<string, Set<string>>();
  const seenSnapshots = new Set<string>();
  const seenImporters = new Set<string>();
  const visitSnapshot = (key: string) => {
    if (seenSnapshots.has(key)) return;
    seenSnapshots.add(key);
    const [name, version] = splitKey(key);
    found.set(name, (found.get(name) ?? new Set()).add(version));
    const snapshot = lock.snapshots[key];
    expect(snapshot, `lockfile snapshot ${key}`).toBeDefined();
    for (const [dep, ref] of Object.entries({ ...snapshot?.dependencies, ...snapshot?.optionalDependencies })) {
      visitSnapshot(/^@?[^@]+@/.test(ref) && !/^\d/.test(ref) ? ref : `${dep}@${ref}`);
    }
  };
  const visitImporter = (path: string) => {
    if (seenImporters.has(path)) return;
    seenImporters.add(path);
    for (const [dep, { version }] of Object.entries(lock.importers[path]?.dependencies ?? {})) {
      if (version.startsWith('link:')) visitImporter(normalize(join(path, version.slice('link:'.length))));
      else visitSnapshot(/^\d/.test(version) ? `${dep}@${version}` : version);
    }
  };
  for (const path of processes) visitImporter(path);
  return found;
}

describe('production dependency tree', () => {
  const tree = productionTree();

  it('is read from the lockfile, through workspace links and aliases', () => {
    expect(tree.has('express')).toBe(true);
    expect(tree.has('pino')).toBe(true); // through the @chat/shared link
    expect(tree.has('@trufflesuite/uws-js-unofficial')).toBe(true); // the uWebSockets.js alias
    expect(tree.has('ws')).toBe(true);
  });

  it('holds no version affected by a known advisory', () => {
    const hits = ADVISORIES.flatMap((advisory) =>
      [...(tree.get(advisory.name) ?? [])]
        .filter((v) => isAffected(v, advisory.affected))
        .map((v) => `${advisory.name}@${v} (${advisory.id})`),
    );
    expect(hits).toEqual([]);
  });

  it('lifts ws with an override, and keeps pino-pretty out of production', () => {
    expect(Object.keys(lock.overrides ?? {})).toContain('ws@<8.17.1');
    expect([...(tree.get('ws') ?? [])].every((v) => compare(v, '8.17.1') >= 0)).toBe(true);
    expect(tree.has('pino-pretty')).toBe(false);
  });

  it('checks ranges as intended', () => {
    expect(isAffected('8.13.0', ADVISORIES[0]?.affected ?? [])).toBe(true);
    expect(isAffected('8.17.1', ADVISORIES[0]?.affected ?? [])).toBe(false);
    expect(isAffected('7.5.9', ADVISORIES[0]?.affected ?? [])).toBe(true);
    expect(compare('20.30.0-unofficial.0', '20.30.0')).toBeLessThan(0);
  });
});
