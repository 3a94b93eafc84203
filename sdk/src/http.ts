import openapiFetch, { type Client } from "openapi-fetch";
import { ConnectionError, MasklineError, errorFromResponse, parseRetryAfter } from "./errors.js";
import type { paths } from "./types.js";

// In the CJS build esbuild imports openapi-fetch's CJS file the way Node does (default = module.exports), so the
// function sits one `.default` further down there.
const createClient: typeof openapiFetch =
  typeof openapiFetch === "function" ? openapiFetch : (openapiFetch as unknown as { default: typeof openapiFetch }).default;

/** The subset of `fetch` the SDK needs; `globalThis.fetch` fits. It is always called with a single `Request`. */
export type FetchLike = (input: Request) => Promise<Response>;

/** Per-call options, accepted as the last argument of every resource method. */
export interface RequestOptions {
  /**
   * The `Idempotency-Key` to send. POSTs get a fresh `crypto.randomUUID()` when this is absent; either way the same
   * key is reused by every retry of that call.
   */
  idempotencyKey?: string;
  /** Aborting it cancels the call (and any pending retry); the abort reason is thrown as is. */
  signal?: AbortSignal;
  /** Overrides the client's `timeoutMs` (per attempt) for this call. */
  timeoutMs?: number;
  /** Overrides the client's `maxRetries` for this call. */
  maxRetries?: number;
  /** Extra request headers. */
  headers?: Record<string, string>;
}

/**
 * A web console session instead of a credential: the browser's session cookie authenticates each call (no
 * `Authorization` header is sent) and every call carries the session's CSRF token in `X-CSRF-Token`.
 */
export interface ConsoleSessionAuth {
  /** The session's CSRF token (from `console.signIn` or `console.getSession`), or a function that returns it. */
  csrfToken: string | (() => string | undefined);
}

export interface HttpSettings {
  baseUrl: string;
  apiKey: string | undefined;
  adminToken: string | undefined;
  session: ConsoleSessionAuth | undefined;
  fetch: FetchLike;
  maxRetries: number;
  timeoutMs: number;
  userAgent: string;
}

/**
 * Which bearer token a call carries: the tenant API key, or the operator token for `/v1/admin/*`; `session` for the
 * console's own session calls (the cookie alone), `none` for signing in (the credential is in the body).
 */
export type Credential = "tenant" | "admin" | "session" | "none";

/** What each resource spreads into an openapi-fetch call. */
export interface CallInit {
  headers: Record<string, string>;
  signal: AbortSignal | undefined;
  fetch: FetchLike;
}

/** The shape of an openapi-fetch result. */
export interface ApiResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

export const RETRY_BASE_MS = 200;
export const RETRY_CAP_MS = 5_000;
/** A `Retry-After` longer than this is not waited for: the error is thrown at once, with its `retryAfter`. */
export const MAX_RETRY_AFTER_MS = 60_000;

/**
 * 429 and 5xx, except 502: that is the carrier's answer relayed (`carrier_error`: out of balance, its own rate
 * limit), which an immediate retry cannot change and, for a call, would only ask it again.
 */
const isRetryableStatus = (status: number): boolean => status === 429 || (status >= 500 && status !== 502);
const nullBodyStatus = (status: number): boolean => status === 204 || status === 205 || status === 304;

export class HttpClient {
  readonly api: Client<paths>;

  constructor(private readonly settings: HttpSettings) {
    this.api = createClient<paths>({
      baseUrl: settings.baseUrl,
      headers: { Accept: "application/json", "User-Agent": settings.userAgent },
      // The console's cookie goes to its own origin only (the default, stated: a console never sends it elsewhere).
      ...(settings.session ? { credentials: "same-origin" as const } : {}),
    });
  }

  /**
   * Runs one typed openapi-fetch call with auth, retries and timeouts, and returns its data or throws a typed
   * `MasklineError`.
   */
  async call<T>(
    credential: Credential,
    opts: RequestOptions | undefined,
    run: (init: CallInit) => Promise<ApiResult<T>>,
  ): Promise<T> {
    const options = opts ?? {};
    const init: CallInit = {
      headers: this.headersFor(credential, options),
      signal: options.signal,
      fetch: (request) => this.send(request, options),
    };
    let result: ApiResult<T>;
    try {
      result = await run(init);
    } catch (err) {
      if (err instanceof MasklineError) throw err;
      if (options.signal?.aborted && err === options.signal.reason) throw err;
      if (err instanceof SyntaxError) {
        throw new MasklineError({ code: "invalid_response", message: `invalid JSON in response: ${err.message}`, cause: err });
      }
      throw new ConnectionError({ message: `request failed: ${describe(err)}`, cause: err });
    }
    if (!result.response.ok) throw errorFromResponse(result.response, result.error);
    return result.data as T;
  }

  private headersFor(credential: Credential, opts: RequestOptions): Record<string, string> {
    const session = this.settings.session;
    if (credential === "none" || credential === "session" || (session && !this.settings.apiKey && !this.settings.adminToken)) {
      const headers: Record<string, string> = { ...opts.headers };
      const csrf = session ? (typeof session.csrfToken === "function" ? session.csrfToken() : session.csrfToken) : undefined;
      if (csrf && credential !== "none") headers["X-CSRF-Token"] = csrf;
      if (opts.idempotencyKey !== undefined) headers["Idempotency-Key"] = opts.idempotencyKey;
      return headers;
    }
    const token = credential === "admin" ? (this.settings.adminToken ?? this.settings.apiKey) : this.settings.apiKey;
    if (!token) {
      throw new TypeError(
        credential === "admin"
          ? "Maskline: admin calls need the operator token in `adminToken` (or `apiKey`)"
          : "Maskline: tenant calls need `apiKey`",
      );
    }
    const headers: Record<string, string> = { ...opts.headers, Authorization: `Bearer ${token}` };
    if (opts.idempotencyKey !== undefined) headers["Idempotency-Key"] = opts.idempotencyKey;
    return headers;
  }

  /** The `fetch` handed to openapi-fetch: retries, each attempt sending a fresh clone of the request. */
  private async send(original: Request, opts: RequestOptions): Promise<Response> {
    const maxRetries = Math.max(0, opts.maxRetries ?? this.settings.maxRetries);
    const timeoutMs = opts.timeoutMs ?? this.settings.timeoutMs;
    const userSignal = original.signal;
    let base = original;
    if (base.method === "POST" && !base.headers.has("Idempotency-Key")) {
      const headers = new Headers(base.headers);
      headers.set("Idempotency-Key", globalThis.crypto.randomUUID());
      base = new Request(base, { headers });
    }
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.attempt(base, timeoutMs, userSignal);
      const response = outcome instanceof Response ? outcome : undefined;
      if (response && !isRetryableStatus(response.status)) return response;
      if (attempt >= maxRetries) {
        if (response) return response;
        throw outcome;
      }
      const delay = retryDelay(attempt, response);
      if (delay === undefined && response) return response;
      await sleep(delay ?? 0, userSignal);
    }
  }

  /** One attempt: a Response (body already read, so slow bodies count against the timeout) or a ConnectionError. */
  private async attempt(base: Request, timeoutMs: number, userSignal: AbortSignal): Promise<Response | ConnectionError> {
    if (userSignal.aborted) throw userSignal.reason;
    const controller = new AbortController();
    let timedOut = false;
    // The attempt ends when the timer or the caller says so, whether or not `fetch` notices the abort: Node's fetch
    // (undici) links a Request's signal to the one it was built with only weakly, and once that link is collected an
    // abort never reaches the request, which then waits for an answer that may never come (seen: 1 attempt in ~1,000
    // against a server that never answers hung for good). Racing the fetch keeps "timeoutMs per attempt" a promise.
    let stop!: (reason: unknown) => void;
    const stopped = new Promise<never>((_, reject) => (stop = reject));
    stopped.catch(() => undefined); // rejected on every timeout and abort; observed only when it wins the race
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
      stop(new Error(`timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    const onAbort = (): void => {
      controller.abort(userSignal.reason);
      stop(userSignal.reason);
    };
    userSignal.addEventListener("abort", onAbort, { once: true });
    try {
      const fetching = this.settings.fetch(new Request(base.clone(), { signal: controller.signal }));
      fetching.catch(() => undefined); // it may reject after losing the race (the abort reaching it late)
      const raw = await Promise.race([fetching, stopped]);
      const reading = nullBodyStatus(raw.status) || base.method === "HEAD" ? Promise.resolve(null) : raw.arrayBuffer();
      reading.catch(() => undefined);
      const body = await Promise.race([reading, stopped]);
      return new Response(body, { status: raw.status, statusText: raw.statusText, headers: raw.headers });
    } catch (err) {
      if (userSignal.aborted) throw userSignal.reason;
      return timedOut
        ? new ConnectionError({ code: "timeout", message: `request timed out after ${timeoutMs} ms`, cause: err })
        : new ConnectionError({ message: `connection failed: ${describe(err)}`, cause: err });
    } finally {
      clearTimeout(timer);
      userSignal.removeEventListener("abort", onAbort);
    }
  }
}

/**
 * Milliseconds before the next attempt: `Retry-After` on 429/503 when present (undefined when it is longer than
 * MAX_RETRY_AFTER_MS, meaning "do not retry"), otherwise exponential backoff with full jitter.
 */
export function retryDelay(attempt: number, response: Response | undefined): number | undefined {
  if (response && (response.status === 429 || response.status === 503)) {
    const seconds = parseRetryAfter(response.headers.get("Retry-After"));
    if (seconds !== undefined) {
      const ms = seconds * 1000;
      return ms > MAX_RETRY_AFTER_MS ? undefined : ms;
    }
  }
  return Math.random() * Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** attempt);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : "";
  return `${err.message}${cause}`;
}
