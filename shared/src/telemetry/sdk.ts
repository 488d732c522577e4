import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { addLogMixin, redactDeviceTokens } from '../logging/index.js';
import { activeTraceIds } from './context.js';

export interface Telemetry {
  enabled: boolean;
  shutdown(): Promise<void>;
}

let running: Telemetry = { enabled: false, shutdown: async () => undefined };

/** The process's telemetry, as started by its instrument module (a no-op when disabled). */
export function telemetry(): Telemetry {
  return running;
}

/**
 * Starts OpenTelemetry for one process. Configured only by the standard OTEL_* variables:
 * OTEL_SDK_DISABLED=true turns it off; traces are exported over OTLP when an OTLP endpoint is set
 * (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), and spans are still made
 * without one, so log lines carry trace ids. Metrics stay on /metrics (Prometheus).
 *
 * Must run before the instrumented libraries are loaded: each process loads it with
 * `node --import ./dist/instrument.js dist/main.js`.
 */
export function startTelemetry(service: string, version: string): Telemetry {
  addLogMixin(activeTraceIds);
  if (/^true$/i.test(process.env.OTEL_SDK_DISABLED ?? '')) return running;
  const env = process.env;
  env.OTEL_SERVICE_NAME ??= service;
  env.OTEL_METRICS_EXPORTER ??= 'none';
  env.OTEL_LOGS_EXPORTER ??= 'none';
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) env.OTEL_TRACES_EXPORTER ??= 'none';
  env.OTEL_RESOURCE_ATTRIBUTES = [env.OTEL_RESOURCE_ATTRIBUTES, `service.version=${version}`].filter(Boolean).join(',');
  // pg, express, ioredis and http are CommonJS, patched on load even when imported from ESM;
  // fetch (undici) is traced through diagnostics channels. No ESM loader hook is needed, and
  // skipping it keeps start-up fast.
  const sdk = new NodeSDK({
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => /^\/(healthz|readyz|metrics)/.test(req.url ?? ''),
        // Device routes carry a push token in the path: the span keeps the route, not the token.
        requestHook: (span, request) => {
          const url = 'url' in request ? request.url : undefined;
          if (url?.includes('/v1/devices/')) span.setAttribute('url.path', redactDeviceTokens(url.split('?')[0] ?? url));
        },
      }),
      new ExpressInstrumentation(),
      new PgInstrumentation({ enhancedDatabaseReporting: false }),
      new UndiciInstrumentation(),
      // Command names only: arguments hold job data (push previews) and keys with user ids.
      new IORedisInstrumentation({ requireParentSpan: true, dbStatementSerializer: (command) => command }),
    ],
  });
  sdk.start();
  running = { enabled: true, shutdown: () => sdk.shutdown() };
  return running;
}
