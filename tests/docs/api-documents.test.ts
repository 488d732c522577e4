import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Parser } from '@asyncapi/parser';
import { restRouteList } from '@chat/shared';
import { apiDocuments } from '@chat/shared/docs';
import { validate } from '@readme/openapi-parser';
import { describe, expect, it } from 'vitest';

const docs = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs');
const generated = apiDocuments();

describe('API documents generated from the zod contracts', () => {
  it.each(Object.keys(generated))('docs/%s is current (run `pnpm docs` after changing a contract)', (file) => {
    const committed = JSON.parse(readFileSync(join(docs, file), 'utf8'));
    expect(committed).toEqual(generated[file]);
  });

  it('the OpenAPI document is valid OpenAPI 3.1 and documents exactly the routes of the REST table', async () => {
    const document = structuredClone(generated['openapi.json']) as Record<string, unknown>;
    const result = await validate(document as never);
    expect(result.valid, JSON.stringify('errors' in result ? result.errors.slice(0, 3) : [])).toBe(true);
    const paths = generated['openapi.json']?.paths as Record<string, Record<string, unknown>>;
    const operations = Object.entries(paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method} ${path}`));
    expect(operations.sort()).toEqual(restRouteList.map(([, route]) => `${route.method} ${route.path}`).sort());
  }, 60_000);

  it.each(['asyncapi-socket.json', 'asyncapi-nats.json'])(
    '%s is valid AsyncAPI 3',
    async (file) => {
      const diagnostics = await new Parser().validate(JSON.stringify(generated[file]));
      const errors = diagnostics.filter((d) => d.severity === 0);
      expect(errors.map((d) => `${d.path.join('.')}: ${d.message}`)).toEqual([]);
    },
    60_000, // the validators take seconds on a busy machine
  );

  it('documents every socket frame type', () => {
    const messages = Object.keys((generated['asyncapi-socket.json'] as { components: { messages: object } }).components.messages);
    for (const type of ['subscribe', 'message.send', 'message.edit', 'reaction.add', 'typing', 'read', 'ping'])
      expect(messages).toContain(`client.${type}`);
    for (const type of ['hello', 'ack', 'error', 'resync', 'message.created', 'reaction.updated', 'presence', 'member.removed'])
      expect(messages).toContain(`server.${type}`);
  });
});
