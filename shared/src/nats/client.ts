import { type MsgHdrs, type NatsConnection, type NatsError, headers as natsHeaders } from 'nats';
import { ChatError } from '../errors/index.js';
import { injectTraceContext, inSpan, SpanKind } from '../telemetry/context.js';
import { type Endpoint, endpointSubject, type RequestOf, type ResponseOf } from './endpoint.js';
import { RpcEnvelopeSchema } from './envelope.js';

export interface CallOptions {
  timeoutMs?: number;
  /** Passed through untouched (trace context, request ids). */
  headers?: Record<string, string>;
}

const encoder = new TextEncoder();

export function toNatsHeaders(values: Record<string, string> | undefined): MsgHdrs | undefined {
  if (!values) return undefined;
  const entries = Object.entries(values);
  if (entries.length === 0) return undefined;
  const h = natsHeaders();
  for (const [key, value] of entries) h.set(key, value);
  return h;
}

export function fromNatsHeaders(h: MsgHdrs | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  for (const key of h.keys()) out[key] = h.get(key);
  return out;
}

function isNatsError(error: unknown): error is NatsError {
  return typeof error === 'object' && error !== null && 'code' in error && error instanceof Error;
}

/** Calls typed endpoints of other services; maps transport failures onto contract error codes. */
export class RpcClient {
  constructor(
    private readonly nc: NatsConnection,
    private readonly namespace: string,
    private readonly defaults: { timeoutMs: number; onCallDone?: (endpoint: Endpoint, outcome: string, seconds: number) => void } = {
      timeoutMs: 5000,
    },
  ) {}

  call<E extends Endpoint>(endpoint: E, request: RequestOf<E>, options: CallOptions = {}): Promise<ResponseOf<E>> {
    const subject = endpointSubject(this.namespace, endpoint);
    return inSpan(
      `send ${endpoint.service}.${endpoint.name}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'messaging.system': 'nats',
          'messaging.destination.name': subject,
          'messaging.operation.type': 'send',
          'rpc.system': 'nats',
          'rpc.method': `${endpoint.service}.${endpoint.name}`,
          ...roomAttribute(request),
        },
      },
      () => this.timed(endpoint, () => this.request(endpoint, subject, request, options)),
    );
  }

  private async timed<T>(endpoint: Endpoint, run: () => Promise<T>): Promise<T> {
    if (!this.defaults.onCallDone) return run();
    const started = performance.now();
    let outcome = 'ok';
    try {
      return await run();
    } catch (error) {
      outcome = error instanceof ChatError ? error.code : 'internal';
      throw error;
    } finally {
      this.defaults.onCallDone(endpoint, outcome, (performance.now() - started) / 1000);
    }
  }

  private async request<E extends Endpoint>(
    endpoint: E,
    subject: string,
    request: RequestOf<E>,
    options: CallOptions,
  ): Promise<ResponseOf<E>> {
    const headerValues = injectTraceContext({ ...options.headers });
    let reply: Uint8Array;
    try {
      const msg = await this.nc.request(subject, encoder.encode(JSON.stringify(request)), {
        timeout: options.timeoutMs ?? this.defaults.timeoutMs,
        headers: toNatsHeaders(headerValues),
      });
      reply = msg.data;
    } catch (error) {
      throw mapTransportError(error, `${endpoint.service}.${endpoint.name}`);
    }
    const envelope = RpcEnvelopeSchema.safeParse(JSON.parse(new TextDecoder().decode(reply)));
    if (!envelope.success) throw new ChatError('internal', `malformed reply from ${endpoint.service}.${endpoint.name}`);
    if (!envelope.data.ok) throw ChatError.fromBody(envelope.data.error);
    return envelope.data.data as ResponseOf<E>;
  }
}

/** `chat.room_id` on spans of requests about one room. */
export function roomAttribute(request: unknown): Record<string, string> {
  const roomId = typeof request === 'object' && request !== null ? (request as { room_id?: unknown }).room_id : undefined;
  return typeof roomId === 'string' ? { 'chat.room_id': roomId } : {};
}

function mapTransportError(error: unknown, what: string): ChatError {
  if (isNatsError(error)) {
    if (error.code === '503') return new ChatError('unavailable', `${what} has no running instance`);
    if (error.code === 'TIMEOUT') return new ChatError('unavailable', `${what} did not answer in time`);
    return new ChatError('unavailable', `${what} could not be reached: ${error.code}`);
  }
  return new ChatError('unavailable', `${what} could not be reached`);
}
