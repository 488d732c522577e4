import type { z } from 'zod';
import { subjects } from './subjects.js';

/**
 * A typed request/reply endpoint. The same definition drives the client (`RpcClient.call`), the
 * server (`serveEndpoints`) and the AsyncAPI document, so neither side can drift.
 */
export interface Endpoint<Req extends z.ZodType = z.ZodType, Res extends z.ZodType = z.ZodType> {
  service: string;
  name: string;
  description: string;
  request: Req;
  response: Res;
}

export type RequestOf<E extends Endpoint> = z.input<E['request']>;
export type ParsedRequestOf<E extends Endpoint> = z.output<E['request']>;
export type ResponseOf<E extends Endpoint> = z.output<E['response']>;

/** One row of a service's endpoint table: its key names it. */
export type EndpointSpec = Pick<Endpoint, 'description' | 'request' | 'response'>;

export type EndpointsOf<Specs extends Record<string, EndpointSpec>> = {
  [Key in keyof Specs]: Endpoint<Specs[Key]['request'], Specs[Key]['response']>;
};

/**
 * A service's endpoints, named once: the service is said for the whole table and each endpoint's
 * wire name is its key in snake_case (`markBlobsDeleted` → `mark_blobs_deleted`), so a key and the
 * subject it is served on cannot drift apart.
 */
export function defineEndpoints<Specs extends Record<string, EndpointSpec>>(service: string, specs: Specs): EndpointsOf<Specs> {
  const endpoints = Object.entries(specs).map(([key, spec]) => [key, { service, name: wireName(key), ...spec }]);
  return Object.fromEntries(endpoints) as EndpointsOf<Specs>;
}

function wireName(key: string): string {
  return key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

/** `<namespace>.rpc.<service>.<name>`; the namespace keeps parallel stacks apart on one NATS. */
export function endpointSubject(namespace: string, endpoint: Pick<Endpoint, 'service' | 'name'>): string {
  return subjects.rpc(namespace, endpoint.service, endpoint.name);
}
