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
];

/** Hooks that add fields to every line (trace ids); telemetry registers one when it starts. */
const mixins: Array<() => Record<string, unknown>> = [];
export function addLogMixin(mixin: () => Record<string, unknown>): void {
  mixins.push(mixin);
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
  if (pretty) {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } } });
  }
  return pino(options);
}
