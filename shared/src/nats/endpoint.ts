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

export function defineEndpoint<Req extends z.ZodType, Res extends z.ZodType>(definition: Endpoint<Req, Res>): Endpoint<Req, Res> {
  return definition;
}

/** `<namespace>.rpc.<service>.<name>`; the namespace keeps parallel stacks apart on one NATS. */
export function endpointSubject(namespace: string, endpoint: Pick<Endpoint, 'service' | 'name'>): string {
  return subjects.rpc(namespace, endpoint.service, endpoint.name);
}
