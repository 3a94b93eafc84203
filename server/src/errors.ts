import { ERROR_CODE_FOR_STATUS, ERROR_TABLE } from "@maskline/openapi/constants";
import type { components } from "@maskline/openapi/schema";

/** Each stable code's HTTP status and problem title: the spec's table (components.schemas.ErrorCode). */
export const ERROR_CODES = ERROR_TABLE;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface FieldError {
  path: string;
  message: string;
}

/**
 * The problem's extension members the spec declares (RFC 9457 section 3.2), so a client reads a fact such as who ran
 * out of numbers from a field instead of parsing `detail`.
 */
export type ProblemExtensions = Pick<components["schemas"]["Problem"], "participant">;

/**
 * The one error type services throw. `code` is stable and public; `detail` is public text;
 * `internal` is for logs only and never reaches a response.
 */
export class AppError extends Error {
  override name = "AppError";
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    readonly detail?: string,
    readonly options: {
      errors?: FieldError[];
      extensions?: ProblemExtensions;
      internal?: string;
      cause?: unknown;
      headers?: Record<string, string>;
    } = {},
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
  const match = (ERROR_CODE_FOR_STATUS as Readonly<Record<number, ErrorCode>>)[status];
  if (match) return match;
  return status >= 500 ? "internal_error" : "bad_request";
}
