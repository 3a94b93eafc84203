/**
 * A time-bounded HTTP client for the tenant and operator APIs of a service at a base URL (the in-process harness
 * or the child process). Every request has a deadline; no answer within it is reported as status 0 with the
 * reason, so a hanging server fails the assertion that follows instead of hanging the test.
 */
import { TEST_ADMIN_TOKEN } from "../support/env.js";

export interface ApiReply {
  /** 0 when no HTTP answer arrived (connection refused or reset, or the deadline passed). */
  status: number;
  headers: Headers;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  elapsedMs: number;
  error?: string;
}

export interface RequestOptions {
  method?: string;
  apiKey?: string;
  json?: unknown;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

export interface Api {
  request(path: string, opts?: RequestOptions): Promise<ApiReply>;
  createTenant(name?: string): Promise<{ tenantId: string; apiKey: string }>;
}

/** `baseUrl` is read per request: a restarted service may listen elsewhere. */
export function apiClient(baseUrl: () => string, adminToken = TEST_ADMIN_TOKEN): Api {
  async function request(path: string, opts: RequestOptions = {}): Promise<ApiReply> {
    const headers = new Headers(opts.headers);
    if (opts.apiKey) headers.set("authorization", `Bearer ${opts.apiKey}`);
    if (opts.json !== undefined) headers.set("content-type", "application/json");
    const timeoutMs = opts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const started = performance.now();
    try {
      const res = await fetch(baseUrl() + path, {
        method: opts.method ?? "GET",
        headers,
        body: opts.json === undefined ? undefined : JSON.stringify(opts.json),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await res.text();
      let body: unknown = undefined;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = undefined;
      }
      return { status: res.status, headers: res.headers, text, body, elapsedMs: performance.now() - started };
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      const why = e.name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : `${e.message}${e.cause?.code ? ` (${e.cause.code})` : ""}`;
      return { status: 0, headers: new Headers(), text: "", body: undefined, elapsedMs: performance.now() - started, error: why };
    }
  }

  return {
    request,
    async createTenant(name = "Fault tenant") {
      const res = await request("/v1/admin/tenants", { method: "POST", headers: { authorization: `Bearer ${adminToken}` }, json: { name } });
      if (res.status !== 201) throw new Error(`creating a tenant: ${describeReply(res)}`);
      return { tenantId: res.body.tenant.id as string, apiKey: res.body.apiKey.secret as string };
    },
  };
}

/** One line for failure messages: status, the problem code or body, and how long it took. */
export function describeReply(res: ApiReply): string {
  const what = res.status === 0 ? res.error : `${res.status} ${res.text.slice(0, 300)}`;
  return `${what} after ${Math.round(res.elapsedMs)} ms`;
}
