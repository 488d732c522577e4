import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Parser } from '@asyncapi/parser';
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

  it('the OpenAPI document is valid OpenAPI 3.1 and covers every REST route of the contract', async () => {
    const document = structuredClone(generated['openapi.json']) as Record<string, unknown>;
    const result = await validate(document as never);
    expect(result.valid, JSON.stringify('errors' in result ? result.errors.slice(0, 3) : [])).toBe(true);
    const paths = Object.keys(generated['openapi.json']?.paths as object);
    for (const path of [
      '/v1/rooms',
      '/v1/rooms/{room_id}/messages',
      '/v1/contexts/{type}/{id}/room',
      '/v1/me/unread',
      '/v1/devices/{token}',
      '/v1/search/messages',
    ]) {
      expect(paths).toContain(path);
    }
  });

  it.each(['asyncapi-socket.json', 'asyncapi-nats.json'])('%s is valid AsyncAPI 3', async (file) => {
    const diagnostics = await new Parser().validate(JSON.stringify(generated[file]));
    const errors = diagnostics.filter((d) => d.severity === 0);
    expect(errors.map((d) => `${d.path.join('.')}: ${d.message}`)).toEqual([]);
  });

  it('documents every socket frame type', () => {
    const messages = Object.keys((generated['asyncapi-socket.json'] as { components: { messages: object } }).components.messages);
    for (const type of ['subscribe', 'message.send', 'message.edit', 'reaction.add', 'typing', 'read', 'ping'])
      expect(messages).toContain(`client.${type}`);
    for (const type of ['hello', 'ack', 'error', 'resync', 'message.created', 'reaction.updated', 'presence', 'member.removed'])
      expect(messages).toContain(`server.${type}`);
  });
});
