import type { Next } from "koa";
import { AppError, ERROR_CODES, codeForStatus, type ErrorCode } from "../errors.js";
import type { AppContext } from "./context.js";

const PROBLEM_TYPE_BASE = "https://maskline.dev/problems/";

interface HttpLikeError {
  status?: number;
  statusCode?: number;
  expose?: boolean;
  type?: string;
  headers?: Record<string, string>;
}

// Postgres refusing text it cannot store (a NUL character, an invalid byte sequence): the caller's input, not ours.
const UNSTORABLE_TEXT = new Set(["22021", "22P05"]);

function fromLibraryError(err: HttpLikeError & { code?: string }): AppError | null {
  if (err.code && UNSTORABLE_TEXT.has(err.code)) {
    return new AppError("validation_failed", "The request contains characters that cannot be stored (such as NUL).", {
      errors: [{ path: "/", message: "contains a NUL character or invalid text" }],
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
    let err = raw instanceof AppError ? raw : fromLibraryError(raw as HttpLikeError);
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
    ctx.body = {
      type: PROBLEM_TYPE_BASE + err.code,
      title: ERROR_CODES[err.code].title,
      status: err.status,
      detail: err.detail ?? ERROR_CODES[err.code].title,
      code: err.code,
      requestId: ctx.state.requestId,
      ...(err.options.errors ? { errors: err.options.errors } : {}),
    };
  }
}
