import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const packages = ['shared', 'gateway', 'rooms-service', 'messages-service', 'notifier-worker'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'migrations' ? [] : sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every module a file names: static imports and re-exports (type-only too) and dynamic imports. */
function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?\bfrom\s+['"]([^'"]+)['"]/g)].map((m) => m[1] as string);
  found.push(...[...text.matchAll(/(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g)].map((m) => m[1] as string));
  found.push(...[...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] as string));
  return found;
}

const files = packages.flatMap((pkg) => sourceFiles(join(root, pkg, 'src')));
const rel = (file: string) => relative(root, file);

/** Storage and transport a domain must not know: it states ports, db/ and handlers/ implement them. */
const FORBIDDEN_IN_DOMAIN = [/(^|\/)db\//, /^kysely($|\/)/, /^pg($|\/)/, /^nats($|\/)/, /^uWebSockets\.js($|\/)/, /^express($|\/)/];
/**
 * Domain files that still reach storage directly, to be moved behind ports (issue 17); the list
 * only shrinks: a file that is clean must leave it.
 */
const NOT_YET_PURE = new Set<string>();

describe('layers', () => {
  it('no domain/ file imports db/, kysely, pg, nats, uWebSockets.js or express', () => {
    const offences: string[] = [];
    const clean: string[] = [];
    for (const file of files.filter((f) => /\/src\/domain\//.test(f))) {
      const bad = specifiers(file).filter((spec) => FORBIDDEN_IN_DOMAIN.some((pattern) => pattern.test(spec)));
      if (NOT_YET_PURE.has(rel(file))) {
        if (bad.length === 0) clean.push(rel(file));
      } else if (bad.length) offences.push(`${rel(file)}: ${bad.join(', ')}`);
    }
    expect(offences).toEqual([]);
    expect(clean, 'pure now: remove from NOT_YET_PURE').toEqual([]);
  });

  it('no import circle between source files (type-only imports included)', () => {
    const graph = new Map<string, string[]>();
    for (const file of files) {
      const targets = specifiers(file)
        .filter((spec) => spec.startsWith('.'))
        .map((spec) => resolve(dirname(file), spec).replace(/\.js$/, '.ts'));
      graph.set(file, targets);
    }
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const path: string[] = [];
    const visit = (file: string) => {
      state.set(file, 'open');
      path.push(file);
      for (const next of graph.get(file) ?? []) {
        if (!graph.has(next)) continue;
        if (state.get(next) === 'open') cycles.push([...path.slice(path.indexOf(next)), next].map(rel).join(' → '));
        else if (!state.has(next)) visit(next);
      }
      path.pop();
      state.set(file, 'done');
    };
    for (const file of graph.keys()) if (!state.has(file)) visit(file);
    expect(cycles).toEqual([]);
  });
});
