import type { Next } from "koa";
import { AppError, ERROR_CODES, codeForStatus, type ErrorCode, type FieldError, type ProblemExtensions } from "../errors.js";
import type { AppContext } from "./context.js";

const PROBLEM_TYPE_BASE = "https://maskline.dev/problems/";

/** The application/problem+json body every error answer has, from the problemJson middleware or the socket. */
export function problemBody(
  code: ErrorCode,
  detail: string | undefined,
  requestId: string,
  errors?: FieldError[],
  extensions?: ProblemExtensions,
) {
  return {
    type: PROBLEM_TYPE_BASE + code,
    title: ERROR_CODES[code].title,
    status: ERROR_CODES[code].status,
    detail: detail ?? ERROR_CODES[code].title,
    code,
    requestId,
    ...(errors ? { errors } : {}),
    ...extensions,
  };
}

interface HttpLikeError {
  status?: number;
  statusCode?: number;
  expose?: boolean;
  type?: string;
  code?: string;
  message?: string;
  headers?: Record<string, string>;
}

// Postgres refusing text it cannot store (a NUL character, an invalid byte sequence): the caller's input, not ours.
const UNSTORABLE_TEXT = new Set(["22021", "22P05"]);

// A body whose Content-Encoding (gzip, deflate, br) it does not honour: zlib's data errors ("incorrect header
// check", "unexpected end of file", a missing dictionary) and brotli's format errors reach us raw from the inflating
// stream co-body reads, with no HTTP status. They are the caller's bytes, not our fault. (Z_MEM_ERROR is ours.)
const BAD_COMPRESSION_CODES = new Set(["Z_DATA_ERROR", "Z_BUF_ERROR", "Z_NEED_DICT", "ERR__ERROR_DICTIONARY_NOT_SET"]);
const isBadCompression = (code: string | undefined) =>
  code !== undefined && (BAD_COMPRESSION_CODES.has(code) || code.startsWith("ERR__ERROR_FORMAT_"));

// A dependency we cannot reach or that went away mid-request (Postgres, and Redis through kv): a deliberate 503, so
// clients and the SDK retry, instead of a 500 that reads as our bug.
const UNREACHABLE_SOCKET_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);
// SQLSTATE class 08 is "connection exception"; 57P01–57P03 are the server shutting down or not yet accepting
// connections; 53300 is too many connections; 57014 is a statement cancelled by its timeout.
const UNAVAILABLE_SQLSTATE = /^(08[0-9A-Z]{3}|57P0[1-3]|53300|57014)$/;
// The client libraries say it only in words: pg ("Connection terminated unexpectedly", "... due to connection
// timeout", its connectionTimeoutMillis's bare "timeout expired", its query_timeout's "Query read timeout", a client
// that already broke), pg-pool's connect timeout, and knex's pool ("Knex: Timeout acquiring a connection"). knex
// prefixes a query's SQL and " - " to the message, so these are matched anywhere (the generic one only as a whole).
const UNAVAILABLE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Query read timeout|not queryable|Timeout acquiring a connection|Connection ended unexpectedly|(?:^|- )timeout expired$/;

/** True when the error (or one it wraps) says a dependency is unreachable rather than that we have a bug. */
export function isDependencyUnavailable(err: unknown, depth = 0): boolean {
  if (err === null || typeof err !== "object" || depth > 3) return false;
  const e = err as { name?: unknown; code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (e.name === "KnexTimeoutError") return true;
  if (typeof e.code === "string" && (UNREACHABLE_SOCKET_CODES.has(e.code) || UNAVAILABLE_SQLSTATE.test(e.code))) return true;
  if (typeof e.message === "string" && UNAVAILABLE_MESSAGES.test(e.message)) return true;
  // Node's connect with several addresses (localhost → ::1 and 127.0.0.1) fails with an AggregateError of each.
  if (Array.isArray(e.errors) && e.errors.some((inner) => isDependencyUnavailable(inner, depth + 1))) return true;
  return isDependencyUnavailable(e.cause, depth + 1);
}

/** How long a client should wait before retrying after a dependency failure. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/**
 * Errors thrown by libraries (koa, the router, bodyparser and its co-body/raw-body/inflation, zlib, pg, knex) as
 * our AppError, or null when the error is unexpected (then it is a 500 and logged whole). One mapping for every
 * route, so no route has to know which library can fail how.
 */
export function fromLibraryError(raw: unknown): AppError | null {
  if (raw === null || typeof raw !== "object") return null;
  const err = raw as HttpLikeError;
  if (err.code && UNSTORABLE_TEXT.has(err.code)) {
    return new AppError("validation_failed", "The request contains characters that cannot be stored (such as NUL).", {
      errors: [{ path: "/", message: "contains a NUL character or invalid text" }],
    });
  }
  if (isBadCompression(err.code)) {
    return new AppError("bad_request", "The request body is not validly compressed with the Content-Encoding it declares.");
  }
  if (isDependencyUnavailable(err)) {
    return new AppError("unavailable", "The service is temporarily unavailable; retry shortly.", {
      internal: "dependency unreachable",
      cause: raw,
      headers: { "Retry-After": String(UNAVAILABLE_RETRY_AFTER_SECONDS) },
    });
  }
  const status = err.status ?? err.statusCode;
  // The router answers unknown methods with 501; to a client that is simply a method this path does not allow.
  if (status === 501) return new AppError("method_not_allowed", "This method is not allowed on this path.");
  if (typeof status !== "number" || status < 400 || status >= 500) return null;
  if (err.type === "entity.too.large") return new AppError("payload_too_large", "The request body is too large.");
  if (err.type === "entity.parse.failed") return new AppError("bad_request", "The request body is not valid JSON.");
  if (err.type === "encoding.unsupported" || err.type === "charset.unsupported") {
    return new AppError("unsupported_media_type", "The request body's encoding is not supported.");
  }
  // inflation's refusal of a Content-Encoding other than gzip, deflate, br or identity carries only a status.
  if (status === 415 && typeof err.message === "string" && err.message.startsWith("Unsupported Content-Encoding")) {
    return new AppError("unsupported_media_type", "Send the body uncompressed or with Content-Encoding gzip, deflate or br.");
  }
  const code: ErrorCode = codeForStatus(status);
  const detail = code === "method_not_allowed" ? "This method is not allowed on this path." : ERROR_CODES[code].title;
  return new AppError(code, detail, { headers: err.headers });
}

/**
 * The first middleware: every error becomes application/problem+json. Public text comes only from AppError
 * details and the code table; anything unexpected is logged whole and answered with a generic 500.
 */
export async function problemJson(ctx: AppContext, next: Next) {
  try {
    await next();
    if (ctx.status === 404 && ctx.body === undefined) throw new AppError("not_found", "No such endpoint.");
  } catch (raw) {
    let err = raw instanceof AppError ? raw : fromLibraryError(raw);
    if (!err) {
      ctx.state.log?.error({ err: raw }, "unhandled error");
      err = new AppError("internal_error", "Something went wrong on our side. The request id identifies it for support.");
    } else if (err.options.internal || err.status >= 500) {
      ctx.state.log?.warn({ code: err.code, internal: err.options.internal, err: err.options.cause }, "request failed");
    }
    ctx.status = err.status;
    ctx.type = "application/problem+json";
    for (const [k, v] of Object.entries(err.options.headers ?? {})) ctx.set(k, v);
    if (err.code === "unauthorized") ctx.set("WWW-Authenticate", 'Bearer realm="maskline"');
    ctx.body = problemBody(err.code, err.detail, ctx.state.requestId, err.options.errors, err.options.extensions);
  }
}
