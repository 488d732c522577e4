// Bundles the benchmark (TypeScript) into dist/ so plain node runs it; dependencies stay external.

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
await build({
  entryPoints: [
    ...['main.ts', 'loadgen.ts', 'dashboard-run.ts'].map((f) => join(here, 'src', f)),
    ...['uws-server.ts', 'socketio-server.ts'].map((f) => join(here, 'baselines', f)),
  ],
  outdir: join(here, 'dist'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
  entryNames: '[name]',
});
