import {
  type Attributes,
  type Context,
  context,
  type Link,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';

export { SpanKind } from '@opentelemetry/api';

/** Chat spans are all made by this tracer; the instrumentations add HTTP, SQL, Redis and fetch spans. */
export const tracer = trace.getTracer('chat');

/** Writes the active trace context (W3C `traceparent`, `tracestate`) into message headers. */
export function injectTraceContext(headers: Record<string, string>, from: Context = context.active()): Record<string, string> {
  propagation.inject(from, headers);
  return headers;
}

/** Reads a trace context from message headers (NATS, JetStream, a stored outbox row). */
export function extractTraceContext(headers: Record<string, string> | undefined): Context {
  return headers ? propagation.extract(context.active(), headers) : context.active();
}

/** The active context as a `traceparent` string, to store beside data that is processed later. */
export function currentTraceparent(): string | null {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent ?? null;
}

/**
 * Runs `fn` in a new span (child of `parent`, or of the active context), records a thrown error on
 * it, and ends it. Attributes never carry message bodies or tokens.
 */
export async function inSpan<T>(
  name: string,
  options: { kind?: SpanKind; attributes?: Attributes; parent?: Context; root?: boolean; links?: Link[] },
  fn: (span: Span) => Promise<T> | T,
): Promise<T> {
  const parent = options.parent ?? context.active();
  const span = tracer.startSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes, root: options.root, links: options.links },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    throw error;
  } finally {
    span.end();
  }
}

/** trace_id and span_id of the active span, for log lines. */
export function activeTraceIds(): { trace_id?: string; span_id?: string } {
  const span = trace.getSpan(context.active());
  if (!span) return {};
  const { traceId, spanId, traceFlags } = span.spanContext();
  if (!traceId || traceId === '00000000000000000000000000000000') return {};
  void traceFlags;
  return { trace_id: traceId, span_id: spanId };
}
