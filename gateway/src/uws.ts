import type * as Uws from 'uWebSockets.js';
import { createRequire } from 'node:module';

export type { HttpRequest, HttpResponse, TemplatedApp, us_listen_socket, WebSocket } from 'uWebSockets.js';
export type UwsModule = typeof Uws;

/**
 * Loads the native uWebSockets.js binary directly. The package's own entry point silently falls
 * back to a slow JavaScript imitation when the binary does not load; a gateway on that fallback
 * would fail its users under load, so it must not start at all.
 */
export function loadNativeUws(): UwsModule {
  if (/^(1|true)$/i.test(process.env.UWS_USE_FALLBACK ?? '')) {
    throw new Error('UWS_USE_FALLBACK is set: the gateway runs only on the native uWebSockets.js binary');
  }
  const require = createRequire(import.meta.url);
  const binary = `uWebSockets.js/binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
  let native: UwsModule;
  try {
    native = require(binary) as UwsModule;
  } catch (error) {
    throw new Error(
      `the native uWebSockets.js binary (${binary}) did not load on Node ${process.version}; refusing to run on the JavaScript fallback: ${
        error instanceof Error ? error.message : String(error)
      }`,
    );
  }
  if (typeof native.App !== 'function' || typeof (native as { getParts?: unknown }).getParts !== 'function') {
    throw new Error('uWebSockets.js loaded, but not its native build');
  }
  return native;
}
