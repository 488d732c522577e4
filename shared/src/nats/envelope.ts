import { z } from 'zod';
import { ErrorBodySchema } from '../errors/index.js';

/** Every RPC reply is one of these, so contract error codes survive the hop between processes. */
export const RpcEnvelopeSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), data: z.unknown() }),
  z.object({ ok: z.literal(false), error: ErrorBodySchema }),
]);
export type RpcEnvelope = z.infer<typeof RpcEnvelopeSchema>;
