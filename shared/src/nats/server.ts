import type { NatsConnection, Service, ServiceMsg } from 'nats';
import type { Logger } from 'pino';
import { ChatError, HTTP_STATUS_BY_CODE, isChatError, parseOrThrow } from '../errors/index.js';
import { extractTraceContext, inSpan, SpanKind } from '../telemetry/context.js';
import { fromNatsHeaders, roomAttribute } from './client.js';
import { type Endpoint, endpointSubject, type ParsedRequestOf, type ResponseOf } from './endpoint.js';
import type { RpcEnvelope } from './envelope.js';
import { rpcQueueGroup } from './subjects.js';

export interface RequestContext {
  subject: string;
  headers: Record<string, string>;
}

export interface EndpointHandler<E extends Endpoint = Endpoint> {
  endpoint: E;
  handle(request: ParsedRequestOf<E>, context: RequestContext): Promise<ResponseOf<E>>;
}

/** Binds an endpoint to its implementation with the types checked against each other. */
export function handle<E extends Endpoint>(
  endpoint: E,
  implementation: (request: ParsedRequestOf<E>, context: RequestContext) => Promise<ResponseOf<E>>,
): EndpointHandler<E> {
  return { endpoint, handle: implementation };
}

export interface ServeOptions {
  namespace: string;
  /** The service name as NATS micro reports it; also the queue group, so replicas share the load. */
  service: string;
  version: string;
  logger: Logger;
  onRequestDone?: (endpoint: Endpoint, outcome: string, seconds: number) => void;
}

export interface ServedEndpoints {
  service: Service;
  /** Stops taking requests, then waits for those in flight to be answered. */
  stop(): Promise<void>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** NATS's default max_payload, for a connection that has not said its own yet. */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;
/** Room left for the headers an error answer carries (NATS micro's status and trace headers). */
const ANSWER_HEADER_ROOM = 4096;

export async function serveEndpoints(nc: NatsConnection, options: ServeOptions, handlers: EndpointHandler[]): Promise<ServedEndpoints> {
  const queue = rpcQueueGroup(options.namespace, options.service);
  // What the server takes in one message, headers included (NATS's max_payload, 1 MB by default).
  const maxAnswerBytes = () => nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD;
  const service = await nc.services.add({ name: queue, version: options.version, queue });
  const inFlight = new Set<Promise<void>>();
  for (const handler of handlers) {
    const endpoint = handler.endpoint;
    service.addEndpoint(`${endpoint.service}_${endpoint.name}`, {
      subject: endpointSubject(options.namespace, endpoint),
      queue,
      metadata: { description: endpoint.description },
      handler: (error, msg) => {
        if (error) {
          options.logger.error({ err: error, endpoint: endpoint.name }, 'endpoint subscription failed');
          return;
        }
        const task = answer(handler, msg, options, maxAnswerBytes)
          // An answer that cannot be sent (the connection closed meanwhile) must not end the process.
          .catch((error: unknown) => options.logger.error({ err: error, endpoint: endpoint.name }, 'could not send the answer'))
          .finally(() => inFlight.delete(task));
        inFlight.add(task);
      },
    });
  }
  return {
    service,
    async stop() {
      await service.stop();
      await Promise.allSettled([...inFlight]);
    },
  };
}

async function answer(handler: EndpointHandler, msg: ServiceMsg, options: ServeOptions, maxAnswerBytes: () => number): Promise<void> {
  const headers = fromNatsHeaders(msg.headers);
  const { endpoint } = handler;
  await inSpan(
    `process ${endpoint.service}.${endpoint.name}`,
    {
      kind: SpanKind.SERVER,
      parent: extractTraceContext(headers),
      attributes: {
        'messaging.system': 'nats',
        'messaging.destination.name': msg.subject,
        'messaging.operation.type': 'process',
        'rpc.system': 'nats',
        'rpc.method': `${endpoint.service}.${endpoint.name}`,
      },
    },
    (span) =>
      respond(handler, msg, { subject: msg.subject, headers }, options, maxAnswerBytes, (request) =>
        span.setAttributes(roomAttribute(request)),
      ),
  );
}

async function respond(
  handler: EndpointHandler,
  msg: ServiceMsg,
  context: RequestContext,
  options: ServeOptions,
  maxAnswerBytes: () => number,
  describe: (request: unknown) => void,
): Promise<void> {
  const started = performance.now();
  let envelope: RpcEnvelope;
  try {
    const request = parseOrThrow(handler.endpoint.request, decodeJson(msg.data));
    describe(request);
    envelope = { ok: true, data: await handler.handle(request, context) };
  } catch (error) {
    const chatError = isChatError(error) ? error : new ChatError('internal', 'internal error');
    if (!isChatError(error)) options.logger.error({ err: error, endpoint: handler.endpoint.name }, 'handler failed');
    envelope = { ok: false, error: chatError.toEnvelopeBody() };
  }
  let payload = encoder.encode(JSON.stringify(envelope));
  const max = maxAnswerBytes() - ANSWER_HEADER_ROOM;
  if (payload.byteLength > max) {
    // NATS refuses the message, and the caller would only see a timeout: answer why instead.
    options.logger.error({ endpoint: handler.endpoint.name, bytes: payload.byteLength, max }, 'answer too large for NATS');
    const tooLarge = new ChatError('internal', `the answer of ${handler.endpoint.service}.${handler.endpoint.name} is too large to send`);
    envelope = { ok: false, error: tooLarge.toEnvelopeBody() };
    payload = encoder.encode(JSON.stringify(envelope));
  }
  if (envelope.ok) msg.respond(payload);
  else msg.respondError(HTTP_STATUS_BY_CODE[envelope.error.code], envelope.error.code, payload);
  options.onRequestDone?.(handler.endpoint, envelope.ok ? 'ok' : envelope.error.code, (performance.now() - started) / 1000);
}

function decodeJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(data));
  } catch {
    throw ChatError.invalid('request is not valid JSON');
  }
}
