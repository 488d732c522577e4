// Loaded with `node --import` before main, so the instrumented libraries are patched when imported.
import { startTelemetry } from '@chat/shared/telemetry';

startTelemetry('gateway', process.env.npm_package_version ?? '0.1.0');
