import { createRequire } from 'node:module';
import pino, { type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

export interface LoggerSettings {
  service: string;
  version: string;
  level: string;
  /** Pretty output is for people at a terminal; everything else gets one JSON object a line. */
  pretty?: boolean;
}

/** Anything that could carry a credential is censored, wherever it appears in a log object. */
export const REDACTED_PATHS = [
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'password',
  '*.password',
  'secret',
  '*.secret',
  'device_token',
  '*.device_token',
  'target.token',
  '*.target.token',
];

/** A push token travels in the path of the device routes; logs and spans get it censored. */
export function redactDeviceTokens(path: string): string {
  return path.replace(/(\/v1\/devices\/)[^/?#]+/g, '$1[redacted]');
}

/** Hooks that add fields to every line (trace ids); telemetry registers one when it starts. */
const mixins: Array<() => Record<string, unknown>> = [];
export function addLogMixin(mixin: () => Record<string, unknown>): void {
  mixins.push(mixin);
}

/**
 * `pino-pretty` is a development dependency: a production install (`pnpm deploy --prod`) lacks it,
 * and logs stay JSON there even on a terminal.
 */
function prettyPrinterInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}

export function createLogger(settings: LoggerSettings): Logger {
  const pretty = settings.pretty ?? (process.stdout.isTTY === true && process.env.NODE_ENV !== 'production');
  const options: LoggerOptions = {
    level: settings.level,
    base: { service: settings.service, version: settings.version, pid: process.pid },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin: () => (mixins.length === 1 ? (mixins[0]?.() ?? {}) : Object.assign({}, ...mixins.map((m) => m()))),
  };
  if (pretty && prettyPrinterInstalled()) {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } } });
  }
  return pino(options);
}
