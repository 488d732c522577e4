#!/usr/bin/env node
/**
 * Writes the API documents generated from the zod contracts:
 *   docs/openapi.json, docs/asyncapi-socket.json, docs/asyncapi-nats.json
 * `pnpm docs` runs it; `pnpm test` fails when a committed document is not current.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { apiDocuments } from './index.js';

const docs = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'docs');
for (const [file, document] of Object.entries(apiDocuments())) {
  writeFileSync(join(docs, file), `${JSON.stringify(document, null, 2)}\n`);
  process.stdout.write(`wrote docs/${file}\n`);
}
