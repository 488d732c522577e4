import { randomUUID } from 'node:crypto';
import { isChatError } from '@chat/shared';
import { createLogger } from '@chat/shared/logging';
import { defineEndpoints, handle, RpcClient, type ServedEndpoints, serveEndpoints } from '@chat/shared/nats';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';

/**
 * An endpoint's answer can outgrow what NATS carries in one message (a member list of a huge
 * room). NATS refuses to publish it; that must reach the caller as an error, and must not end the
 * serving process (it did: the refusal was thrown out of the answer, unhandled).
 */
const infra = inject('infra');
const logger = createLogger({ service: 'test', version: '0', level: 'silent', pretty: false });
const answers = defineEndpoints('answers', {
  textOfSize: {
    description: 'A text of the asked size in UTF-8 (an even number of bytes)',
    request: z.object({ bytes: z.number().int().nonnegative().multipleOf(2) }),
    response: z.object({ text: z.string() }),
  },
});
let nc: NatsConnection;
let served: ServedEndpoints;
let rpc: RpcClient;

beforeAll(async () => {
  const namespace = `answers${randomUUID().slice(0, 8)}`;
  nc = await connect({ servers: infra.natsUrl });
  served = await serveEndpoints(nc, { namespace, service: 'answers', version: '0.0.0', logger }, [
    // Two bytes a character in UTF-8: the limit is in bytes, not characters.
    handle(answers.textOfSize, async (request) => ({ text: 'é'.repeat(request.bytes / 2) })),
  ]);
  rpc = new RpcClient(nc, namespace, { timeoutMs: 20_000 });
});

afterAll(async () => {
  await served.stop();
  await nc.close();
});

describe('an endpoint answer larger than NATS carries', () => {
  it('reaches the caller as an internal error at once, not as a timeout, and the endpoint keeps serving', async () => {
    const maxPayload = nc.info?.max_payload ?? 0;
    expect(maxPayload).toBeGreaterThan(0);
    // Fewer characters than max_payload, more bytes.
    const refused = await rpc.call(answers.textOfSize, { bytes: maxPayload + 2 }).catch((error: unknown) => error);
    expect(isChatError(refused) && refused.code).toBe('internal');
    expect((refused as Error).message).toContain('answers.text_of_size');
    expect((refused as Error).message).toContain('too large');

    // Just under the limit still goes through, and so does the next small answer.
    const large = await rpc.call(answers.textOfSize, { bytes: maxPayload - 8192 });
    expect(large.text).toHaveLength((maxPayload - 8192) / 2);
    expect((await rpc.call(answers.textOfSize, { bytes: 4 })).text).toBe('éé');
  });
});
