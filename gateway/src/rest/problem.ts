import { ChatError, type ErrorCode, HTTP_STATUS_BY_CODE, isChatError, type Problem } from '@chat/shared';
import { type Logger, redactDeviceTokens } from '@chat/shared/logging';
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';

const TITLES: Record<ErrorCode, string> = {
  unauthenticated: 'Unauthenticated',
  forbidden: 'Forbidden',
  not_found: 'Not found',
  invalid: 'Invalid request',
  conflict: 'Conflict',
  too_large: 'Payload too large',
  rate_limited: 'Too many requests',
  unavailable: 'Service unavailable',
  internal: 'Internal error',
};

/** RFC 9457 problem details with the contract's `code` (and `details` per field for `invalid`). */
export function sendProblem(res: Response, error: ChatError, instance?: string): void {
  const status = error.httpStatus ?? HTTP_STATUS_BY_CODE[error.code];
  if (error.retryAfterMs !== undefined) res.setHeader('Retry-After', String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))));
  const problem: Problem = {
    type: `https://chat.invalid/problems/${error.code}`,
    title: TITLES[error.code],
    status,
    detail: error.message,
    code: error.code,
    ...(instance ? { instance } : {}),
    ...(error.details?.length ? { details: error.details } : {}),
    ...(error.retryAfterMs !== undefined ? { retry_after_ms: error.retryAfterMs } : {}),
  };
  res.status(status).type('application/problem+json').send(JSON.stringify(problem));
}

export const notFoundRoute: RequestHandler = (req, res) => {
  sendProblem(res, new ChatError('not_found', `no route for ${req.method} ${req.path}`), req.originalUrl);
};

/** Maps everything thrown in a route, including body-parser failures, onto the contract's codes. */
export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    if (isChatError(error)) return sendProblem(res, error, req.originalUrl);
    const type = (error as { type?: string }).type;
    if (type === 'entity.too.large') return sendProblem(res, new ChatError('too_large', 'request body is too large'), req.originalUrl);
    if (type === 'entity.parse.failed') return sendProblem(res, ChatError.invalid('request body is not valid JSON'), req.originalUrl);
    if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
      return sendProblem(res, ChatError.invalid('unsupported body encoding'), req.originalUrl);
    }
    logger.error({ err: error, method: req.method, path: redactDeviceTokens(req.path) }, 'request failed');
    sendProblem(res, new ChatError('internal', 'internal error'), req.originalUrl);
  };
}
