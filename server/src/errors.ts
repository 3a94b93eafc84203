/**
 * The one error type services throw. `code` is stable and public; `detail` is public text;
 * `internal` is for logs only and never reaches a response.
 */
export const ERROR_CODES = {
  bad_request: { status: 400, title: "Bad request" },
  unauthorized: { status: 401, title: "Unauthorized" },
  forbidden: { status: 403, title: "Forbidden" },
  not_found: { status: 404, title: "Not found" },
  method_not_allowed: { status: 405, title: "Method not allowed" },
  request_timeout: { status: 408, title: "Request timeout" },
  conflict: { status: 409, title: "Conflict" },
  pool_exhausted: { status: 409, title: "Pool exhausted" },
  idempotency_conflict: { status: 409, title: "Idempotency conflict" },
  payload_too_large: { status: 413, title: "Payload too large" },
  unsupported_media_type: { status: 415, title: "Unsupported media type" },
  validation_failed: { status: 422, title: "Validation failed" },
  rate_limited: { status: 429, title: "Too many requests" },
  headers_too_large: { status: 431, title: "Request header fields too large" },
  internal_error: { status: 500, title: "Internal error" },
  unavailable: { status: 503, title: "Service unavailable" },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface FieldError {
  path: string;
  message: string;
}

export class AppError extends Error {
  override name = "AppError";
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    readonly detail?: string,
    readonly options: { errors?: FieldError[]; internal?: string; cause?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(options.internal ?? detail ?? code, { cause: options.cause });
    this.status = ERROR_CODES[code].status;
  }
}

export const notFound = (what: string) => new AppError("not_found", `${what} not found`);
export const validationFailed = (errors: FieldError[], detail = "The request is not valid.") =>
  new AppError("validation_failed", detail, { errors });

/** Maps an HTTP status thrown by a library (koa, bodyparser) to our code table. */
export function codeForStatus(status: number): ErrorCode {
  const match = (Object.keys(ERROR_CODES) as ErrorCode[]).find((c) => ERROR_CODES[c].status === status);
  if (match) return match;
  return status >= 500 ? "internal_error" : "bad_request";
}
