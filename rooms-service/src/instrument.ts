// Loaded with `node --import` before main, so the instrumented libraries are patched when imported.
import { startTelemetry } from '@chat/shared/telemetry';

startTelemetry('rooms-service', process.env.npm_package_version ?? '0.1.0');
