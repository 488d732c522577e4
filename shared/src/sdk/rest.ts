import type { RestBodyInput, RestPathInput, RestQueryInput, RestResult, RestRouteId, RestRouteLine } from '../contracts/routes.js';
import type { ErrorCode } from '../errors/index.js';
import { ChatRequestError } from './types.js';

/**
 * The routes of the REST table (shared/src/contracts/routes.ts) the SDK calls, as `METHOD /path`.
 * Only their types come from the table, so the browser bundle carries no zod; a line that no
 * longer matches the table is a type error.
 */
const ROUTES = {
  listRooms: 'GET /v1/rooms',
  history: 'GET /v1/rooms/{room_id}/messages',
  unreadSummary: 'GET /v1/me/unread',
  acknowledgements: 'GET /v1/rooms/{room_id}/messages/{message_id}/acknowledgements',
  blockUser: 'PUT /v1/me/blocks/{user_id}',
  unblockUser: 'DELETE /v1/me/blocks/{user_id}',
  listBlocks: 'GET /v1/me/blocks',
  reportMessage: 'POST /v1/rooms/{room_id}/messages/{message_id}/reports',
  listReports: 'GET /v1/reports',
  updateReport: 'PATCH /v1/reports/{report_id}',
} as const satisfies { [K in RestRouteId]?: RestRouteLine<K> };
type SdkRouteId = keyof typeof ROUTES;

interface CallInput<K extends SdkRouteId> {
  params?: RestPathInput<K>;
  /** The query as the table types it, or already encoded (`?a=1`). */
  query?: RestQueryInput<K> | string;
  body?: RestBodyInput<K>;
}

function encodeQuery(query: unknown): string {
  if (typeof query === 'string') return query;
  if (typeof query !== 'object' || query === null) return '';
  const pairs = Object.entries(query).filter(([, value]) => value !== undefined);
  return pairs.length ? `?${new URLSearchParams(pairs.map(([name, value]): [string, string] => [name, String(value)]))}` : '';
}

/** Threads (DESIGN 10.5): one thread's replies (root left out), or the room without thread replies. */
export interface HistoryFilter {
  threadRootId?: string | undefined;
  topLevel?: boolean | undefined;
}

export interface RestOptions {
  /** The gateway's HTTP origin. */
  httpUrl: string;
  token: () => Promise<string>;
  fetch?: typeof fetch | undefined;
}

/** The gateway's REST API with the client's token; problem+json answers reject with their code. */
export class RestClient {
  constructor(private readonly options: RestOptions) {}

  async api<T>(
    method: string,
    path: string,
    body?: unknown,
    init: { raw?: RequestInit['body']; headers?: Record<string, string> } = {},
  ): Promise<T> {
    const token = await this.options.token();
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, ...init.headers };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const fetchImpl = this.options.fetch ?? globalThis.fetch;
    const response = await fetchImpl(`${this.options.httpUrl}${path}`, {
      method,
      headers,
      body: init.raw ?? (body === undefined ? undefined : JSON.stringify(body)),
    });
    const text = await response.text();
    const parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    if (!response.ok) {
      throw new ChatRequestError(
        (parsed.code as ErrorCode) ?? 'internal',
        String(parsed.detail ?? response.statusText),
        parsed.retry_after_ms as number | undefined,
      );
    }
    return parsed as T;
  }

  /** One route of the table, typed by it: path parameters, query and body in, the success body out. */
  call<K extends SdkRouteId>(route: K, input: CallInput<K> = {}): Promise<RestResult<K>> {
    const [method, template] = ROUTES[route].split(' ') as [string, string];
    const params: Record<string, string> = input.params ?? {};
    const path = template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name] ?? ''));
    return this.api(method, `${path}${encodeQuery(input.query)}`, input.body);
  }

  listRooms(query = ''): Promise<RestResult<'listRooms'>> {
    return this.call('listRooms', { query });
  }

  history(roomId: string, beforeSeq?: number, limit = 50, filter: HistoryFilter = {}): Promise<RestResult<'history'>> {
    return this.call('history', {
      params: { room_id: roomId },
      query: {
        limit,
        before_seq: beforeSeq,
        thread_root_id: filter.threadRootId,
        top_level: filter.topLevel ? 'true' : undefined,
      },
    });
  }

  acknowledgements(roomId: string, messageId: string): Promise<RestResult<'acknowledgements'>> {
    return this.call('acknowledgements', { params: { room_id: roomId, message_id: messageId } });
  }

  block(userId: string): Promise<RestResult<'blockUser'>> {
    return this.call('blockUser', { params: { user_id: userId } });
  }

  async unblock(userId: string): Promise<void> {
    await this.call('unblockUser', { params: { user_id: userId } });
  }

  blocks(cursor?: string): Promise<RestResult<'listBlocks'>> {
    return this.call('listBlocks', { query: cursor ? `?cursor=${encodeURIComponent(cursor)}` : '' });
  }

  report(roomId: string, messageId: string, body: RestBodyInput<'reportMessage'>): Promise<RestResult<'reportMessage'>> {
    return this.call('reportMessage', { params: { room_id: roomId, message_id: messageId }, body });
  }

  reports(query: RestQueryInput<'listReports'> = {}): Promise<RestResult<'listReports'>> {
    return this.call('listReports', { query });
  }

  updateReport(reportId: string, status: 'resolved' | 'dismissed'): Promise<RestResult<'updateReport'>> {
    return this.call('updateReport', { params: { report_id: reportId }, body: { status } });
  }

  unread(): Promise<RestResult<'unreadSummary'>> {
    return this.call('unreadSummary');
  }
}
