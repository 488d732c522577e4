import { buildNatsAsyncApi, buildSocketAsyncApi } from './asyncapi.js';
import { buildOpenApi } from './openapi.js';

/** The contract version the documents carry. */
export const API_VERSION = '1.0.0';

export function apiDocuments(): Record<string, Record<string, unknown>> {
  return {
    'openapi.json': buildOpenApi(API_VERSION),
    'asyncapi-socket.json': buildSocketAsyncApi(API_VERSION),
    'asyncapi-nats.json': buildNatsAsyncApi(API_VERSION),
  };
}

export { buildNatsAsyncApi, buildOpenApi, buildSocketAsyncApi };
