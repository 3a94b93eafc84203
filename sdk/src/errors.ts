import { ERROR_CODE_FOR_STATUS } from "@maskline/openapi/constants";
import type { ErrorCode, FieldError, Problem, ProblemParticipant } from "./types.js";

/** A stable error code: one of the API's `ErrorCode`s, or an SDK-side one (`connection_error`, `timeout`, …). */
export type MasklineErrorCode = ErrorCode | "connection_error" | "timeout" | "invalid_response" | (string & {});

export interface MasklineErrorInit {
  message?: string;
  status?: number;
  code: MasklineErrorCode;
  requestId?: string;
  detail?: string;
  errors?: FieldError[];
  problem?: Problem;
  headers?: Headers;
  /** Seconds from the response's `Retry-After` header. */
  retryAfter?: number;
  cause?: unknown;
}

/** Base class of every error the SDK throws for a failed API call. */
export class MasklineError extends Error {
  override name = "MasklineError";
  /** HTTP status; undefined when no response arrived (see `ConnectionError`). */
  readonly status: number | undefined;
  /** The problem's stable `code` (or one derived from the status when the body was not a problem document). */
  readonly code: MasklineErrorCode;
  /** The server's request id, for support and logs. */
  readonly requestId: string | undefined;
  /** The problem's human-readable `detail`. */
  readonly detail: string | undefined;
  /** Per-field messages of a 422 `validation_failed`; empty otherwise. */
  readonly errors: FieldError[];
  /** The raw `application/problem+json` body, when there was one. */
  readonly problem: Problem | undefined;
  /** Response headers, when a response arrived. */
  readonly headers: Headers | undefined;
  /**
   * Seconds the server asked to wait before retrying (`Retry-After`, on 429 and 503), when it said; the SDK already
   * waited that long between its own attempts, up to 60 s.
   */
  readonly retryAfter: number | undefined;

  constructor(init: MasklineErrorInit) {
    super(init.message ?? defaultMessage(init), init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.code = init.code;
    this.requestId = init.requestId;
    this.detail = init.detail;
    this.errors = init.errors ?? [];
    this.problem = init.problem;
    this.headers = init.headers;
    this.retryAfter = init.retryAfter;
  }
}

function defaultMessage(init: MasklineErrorInit): string {
  const head = init.status === undefined ? init.code : `${init.status} ${init.code}`;
  const detail = init.detail ?? init.problem?.title;
  const fields = init.errors?.length ? ` (${init.errors.map((e) => `${e.path}: ${e.message}`).join("; ")})` : "";
  const rid = init.requestId ? ` [requestId ${init.requestId}]` : "";
  return `${head}${detail ? `: ${detail}` : ""}${fields}${rid}`;
}

// Other 4xx kinds without a dedicated class (`bad_request`, `payload_too_large`, …) are plain `MasklineError`s.

/** 401 `unauthorized`: missing, unknown or revoked credentials. */
export class AuthenticationError extends MasklineError {
  override name = "AuthenticationError";
}
/** 403 `forbidden`. */
export class PermissionDeniedError extends MasklineError {
  override name = "PermissionDeniedError";
}
/** 404 `not_found`. */
export class NotFoundError extends MasklineError {
  override name = "NotFoundError";
}
/** 409 `conflict`; also the base of the other 409 kinds, so `instanceof ConflictError` catches every 409. */
export class ConflictError extends MasklineError {
  override name = "ConflictError";
}
/** 409 `pool_exhausted`: no free masking DID for a participant. */
export class PoolExhaustedError extends ConflictError {
  override name = "PoolExhaustedError";
  /**
   * Who has no free masking number: `position` is their index in the request's `participants` (0 or 1), `label` the
   * label sent with them (null when none was). From the problem's `participant` member; undefined only when the
   * server did not send one.
   */
  readonly participant: ProblemParticipant | undefined;
  constructor(init: MasklineErrorInit) {
    super(init);
    this.participant = init.problem?.participant;
  }
}
/** 409 `idempotency_conflict`: the same `Idempotency-Key` was used with a different body. */
export class IdempotencyConflictError extends ConflictError {
  override name = "IdempotencyConflictError";
}
/** 422 `validation_failed`; see `errors`. */
export class ValidationError extends MasklineError {
  override name = "ValidationError";
}
/** 429 `rate_limited`; `retryAfter` says how long the server asked to wait. */
export class RateLimitError extends MasklineError {
  override name = "RateLimitError";
}
/** Any 5xx (`internal_error`, `unavailable`, gateway errors). */
export class ServerError extends MasklineError {
  override name = "ServerError";
}
/**
 * 502 `carrier_error`: the carrier refused or failed (out of balance, its own rate limit, an outage); `detail` has its
 * reason. Not retried by the SDK: nothing was done at the carrier, and asking again at once would not help.
 */
export class CarrierError extends ServerError {
  override name = "CarrierError";
}
/** No response: the connection failed or the request timed out (`code` is `timeout` then). `status` is undefined. */
export class ConnectionError extends MasklineError {
  override name = "ConnectionError";
  constructor(init: Omit<MasklineErrorInit, "code" | "status"> & { code?: "connection_error" | "timeout" }) {
    super({ ...init, code: init.code ?? "connection_error" });
  }
}

type ErrorClass = new (init: MasklineErrorInit) => MasklineError;

const byCode: Partial<Record<ErrorCode, ErrorClass>> = {
  unauthorized: AuthenticationError,
  forbidden: PermissionDeniedError,
  not_found: NotFoundError,
  conflict: ConflictError,
  pool_exhausted: PoolExhaustedError,
  idempotency_conflict: IdempotencyConflictError,
  validation_failed: ValidationError,
  rate_limited: RateLimitError,
  internal_error: ServerError,
  carrier_error: CarrierError,
  unavailable: ServerError,
};

// The API's code for a bare status (a response without a problem body): the spec's error table.
const codeByStatus: Readonly<Record<number, ErrorCode>> = ERROR_CODE_FOR_STATUS;

/** The class of a bare status: that of the spec's code for it; any other 5xx (a gateway's) is a ServerError too. */
function classForStatus(status: number): ErrorClass {
  const code = codeByStatus[status];
  return (code ? byCode[code] : undefined) ?? (status >= 500 ? ServerError : MasklineError);
}

function isProblem(body: unknown): body is Problem {
  return typeof body === "object" && body !== null && typeof (body as { code?: unknown }).code === "string";
}

/** Seconds from a `Retry-After` header (delta-seconds or an HTTP date); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, (date - Date.now()) / 1000);
}

/** Builds the typed error for a non-2xx response. The class is chosen by the problem's `code` first, then the status. */
export function errorFromResponse(response: Response, body: unknown): MasklineError {
  const status = response.status;
  const problem = isProblem(body) ? body : undefined;
  const code: MasklineErrorCode = problem?.code ?? codeByStatus[status] ?? (status >= 500 ? "internal_error" : "bad_request");
  const Class = (problem ? byCode[problem.code] : undefined) ?? classForStatus(status);
  const text = typeof body === "string" && body.trim() !== "" ? body.trim().slice(0, 500) : undefined;
  const init: MasklineErrorInit = {
    status,
    code,
    requestId: problem?.requestId ?? response.headers.get("x-request-id") ?? undefined,
    detail: problem?.detail ?? problem?.title ?? text ?? (response.statusText || undefined),
    errors: Array.isArray(problem?.errors) ? problem.errors : [],
    problem,
    headers: response.headers,
    retryAfter: parseRetryAfter(response.headers.get("retry-after")),
  };
  return new Class(init);
}
