import { z } from 'zod';

/** The stable error codes of the public contract (DESIGN.md section 5). */
export const ErrorCodeSchema = z.enum([
  'unauthenticated',
  'forbidden',
  'not_found',
  'invalid',
  'conflict',
  'too_large',
  'rate_limited',
  'unavailable',
  'internal',
]);
export type ErrorCode = z.infer<typeof ErrorCodeSchema>;

export const HTTP_STATUS_BY_CODE: Record<ErrorCode, number> = {
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  invalid: 400,
  conflict: 409,
  too_large: 413,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
};

/** One problem with one input field: `path` is dotted (`member_ids.3`), empty for the whole input. */
export const FieldIssueSchema = z.object({ path: z.string(), message: z.string() });
export type FieldIssue = z.infer<typeof FieldIssueSchema>;

export const ErrorBodySchema = z.object({
  code: ErrorCodeSchema,
  message: z.string(),
  details: z.array(FieldIssueSchema).optional(),
  retry_after_ms: z.number().int().nonnegative().optional(),
  /** Between services only: 422 for a well-formed request a rule refuses (`invalid` is 400 otherwise). */
  http_status: z.literal(422).optional(),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/** The REST error body: RFC 9457 problem details plus the contract's `code`. */
export const ProblemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  code: ErrorCodeSchema,
  instance: z.string().optional(),
  details: z.array(FieldIssueSchema).optional(),
  retry_after_ms: z.number().int().nonnegative().optional(),
});
export type Problem = z.infer<typeof ProblemSchema>;

/** The one error type every layer throws; transports map it to problem+json, error frames or RPC envelopes. */
export class ChatError extends Error {
  override readonly name = 'ChatError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: FieldIssue[],
    readonly retryAfterMs?: number,
    /** 422 for `invalid` input that is well-formed but refused by a rule (blocking yourself); else the code's status. */
    readonly httpStatus?: 422,
  ) {
    super(message);
  }

  toBody(): ErrorBody {
    const body: ErrorBody = { code: this.code, message: this.message };
    if (this.details?.length) body.details = this.details;
    if (this.retryAfterMs !== undefined) body.retry_after_ms = this.retryAfterMs;
    return body;
  }

  /** What crosses NATS: the body plus the HTTP status it must keep (never sent to clients as such). */
  toEnvelopeBody(): ErrorBody {
    return this.httpStatus === undefined ? this.toBody() : { ...this.toBody(), http_status: this.httpStatus };
  }

  static fromBody(body: ErrorBody): ChatError {
    return new ChatError(body.code, body.message, body.details, body.retry_after_ms, body.http_status);
  }

  /** `invalid` answered with 422: the request is well-formed, but a rule refuses it. */
  static unprocessable(message: string, details?: FieldIssue[]): ChatError {
    return new ChatError('invalid', message, details, undefined, 422);
  }

  static invalid(message: string, details?: FieldIssue[]): ChatError {
    return new ChatError('invalid', message, details);
  }

  static notFound(what: string): ChatError {
    return new ChatError('not_found', `${what} not found`);
  }

  static forbidden(message: string): ChatError {
    return new ChatError('forbidden', message);
  }
}

export function isChatError(error: unknown): error is ChatError {
  return error instanceof ChatError;
}

/** Turns zod issues into the contract's per-field details. */
export function fieldIssuesFromZod(error: z.ZodError): FieldIssue[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
}

/** Parses `input` with `schema`, throwing `invalid` with per-field details on failure. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, what = 'request'): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) {
    const details = fieldIssuesFromZod(result.error);
    const first = details[0];
    const where = first?.path ? `${first.path}: ` : '';
    throw ChatError.invalid(`invalid ${what}: ${where}${first?.message ?? 'malformed'}`, details);
  }
  return result.data;
}
