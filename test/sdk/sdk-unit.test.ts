// Unit tests of the BUILT @maskline/sdk (run `pnpm build` first; `pnpm test` does it via `pretest`), driven against a
// tiny local node:http server: no fetch mocks.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  AuthenticationError,
  ConflictError,
  ConnectionError,
  IdempotencyConflictError,
  Maskline,
  MasklineError,
  NotFoundError,
  Page,
  PermissionDeniedError,
  PoolExhaustedError,
  RateLimitError,
  ServerError,
  ValidationError,
  type CreateSessionRequest,
  type Session,
} from "@maskline/sdk";

interface Seen {
  method: string;
  url: URL;
  headers: IncomingMessage["headers"];
  body: string;
  at: number;
}
type Handler = (req: Seen, res: ServerResponse, n: number) => void;

let server: Server;
let baseUrl: string;
let seen: Seen[] = [];
let handler: Handler = (_req, res) => json(res, 500, {});

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}
function problem(
  res: ServerResponse,
  status: number,
  code: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify({ type: "about:blank", title: code, status, code, requestId: `req_${code}`, ...extra });
  res.writeHead(status, { "content-type": "application/problem+json", ...headers });
  res.end(text);
}
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const session = (id: string): Session => ({
  id,
  status: "open",
  mode: "two_way",
  routing: "number",
  recording: false,
  pool: "default",
  appId: "app_1",
  reference: null,
  metadata: {},
  createdAt: "2025-01-01T00:00:00Z",
  expiresAt: "2025-01-01T01:00:00Z",
  closedAt: null,
  participants: [
    { id: "par_a", label: "agent", maskedNumber: "+91******0001", proxyNumber: "+919000000001" },
    { id: "par_b", label: "customer", maskedNumber: "+91******0002", proxyNumber: "+919000000002" },
  ],
});
const createBody: CreateSessionRequest = {
  participants: [{ number: "+919888800001" }, { number: "+919888800002" }],
  ttlSeconds: 1800,
};

function client(extra: Partial<ConstructorParameters<typeof Maskline>[0]> = {}): Maskline {
  return new Maskline({ apiKey: "mk_live_test", baseUrl, ...extra });
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (body += c));
    req.on("end", () => {
      const entry: Seen = {
        method: req.method ?? "",
        url: new URL(req.url ?? "/", "http://x"),
        headers: req.headers,
        body,
        at: Date.now(),
      };
      seen.push(entry);
      handler(entry, res, seen.length);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  seen = [];
});

describe("requests", () => {
  it("sends bearer auth, Accept, User-Agent and JSON bodies to typed paths", async () => {
    handler = (_r, res) => json(res, 201, session("ses_1"));
    const created = await client({ userAgent: "unit/1" }).sessions.create(createBody);
    expect(created.id).toBe("ses_1");
    const [req] = seen;
    expect(req?.method).toBe("POST");
    expect(req?.url.pathname).toBe("/v1/sessions");
    expect(req?.headers.authorization).toBe("Bearer mk_live_test");
    expect(req?.headers.accept).toBe("application/json");
    expect(req?.headers["user-agent"]).toBe("unit/1");
    expect(req?.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(req?.body ?? "")).toEqual(createBody);
  });

  it("adds an automatic UUID Idempotency-Key on every POST, a fresh one per call, and none on other methods", async () => {
    handler = (r, res) => (r.method === "DELETE" ? (res.writeHead(204), res.end()) : json(res, 200, session("ses_1")));
    const m = client();
    await m.sessions.create(createBody);
    await m.sessions.create(createBody);
    await m.sessions.close("ses_1");
    await m.sessions.get("ses_1");
    await m.sessions.update("ses_1", { ttlSeconds: 60 });
    await m.numbers.delete("num_1");
    const keys = seen.map((s) => s.headers["idempotency-key"]);
    expect(keys[0]).toMatch(UUID);
    expect(keys[1]).toMatch(UUID);
    expect(keys[2]).toMatch(UUID);
    expect(new Set(keys.slice(0, 3)).size).toBe(3);
    expect(keys.slice(3)).toEqual([undefined, undefined, undefined]);
    expect(seen[2]?.url.pathname).toBe("/v1/sessions/ses_1/close");
    expect(seen[4]?.method).toBe("PATCH");
  });

  it("lets a caller-provided idempotencyKey win", async () => {
    handler = (_r, res) => json(res, 201, session("ses_1"));
    await client().sessions.create(createBody, { idempotencyKey: "order-8812" });
    expect(seen[0]?.headers["idempotency-key"]).toBe("order-8812");
  });

  it("accepts request bodies without spec-defaulted fields (ttlSeconds, signatureRequired, ringTimeoutSeconds)", async () => {
    handler = (r, res) => json(res, 201, r.url.pathname === "/v1/apps" ? { id: "app_1" } : session("ses_min"));
    const m = client();
    await m.apps.create({ name: "Fleet", vobizAuthId: "MA123", vobizAuthToken: "tok" });
    await m.sessions.create({ participants: [{ number: "+919888800001" }, { number: "+919888800002" }] });
    expect(JSON.parse(seen[0]?.body ?? "")).toEqual({ name: "Fleet", vobizAuthId: "MA123", vobizAuthToken: "tok" });
    expect(JSON.parse(seen[1]?.body ?? "")).not.toHaveProperty("ttlSeconds");
  });

  it("delete resolves to void on 204", async () => {
    handler = (_r, res) => {
      res.writeHead(204);
      res.end();
    };
    const m = client();
    await expect(m.apiKeys.delete("key_1")).resolves.toBeUndefined();
    await expect(m.numbers.delete("num 1/x")).resolves.toBeUndefined();
    expect(seen.map((s) => `${s.method} ${s.url.pathname}`)).toEqual([
      "DELETE /v1/api-keys/key_1",
      "DELETE /v1/numbers/num%201%2Fx",
    ]);
  });

  it("sends the operator token on admin calls and the API key on tenant calls", async () => {
    handler = (r, res) =>
      r.url.pathname === "/v1/admin/tenants"
        ? json(res, 201, {
            tenant: { id: "ten_1", name: "Acme", createdAt: "2025-01-01T00:00:00Z" },
            apiKey: { id: "key_1", name: null, start: "mk_live_ab", secret: "mk_live_abc", createdAt: "2025-01-01T00:00:00Z" },
          })
        : json(res, 201, { id: "key_2", name: "ci", start: "mk_live_cd", secret: "mk_live_cde", createdAt: "2025-01-01T00:00:00Z" });
    const m = client({ adminToken: "admin_tok" });
    const created = await m.admin.tenants.create({ name: "Acme" });
    expect(created.apiKey.secret).toBe("mk_live_abc");
    const key = await m.admin.apiKeys.create("ten_1", { name: "ci" });
    expect(key.id).toBe("key_2");
    await m.apiKeys.create();
    expect(seen.map((s) => [s.url.pathname, s.headers.authorization])).toEqual([
      ["/v1/admin/tenants", "Bearer admin_tok"],
      ["/v1/admin/tenants/ten_1/api-keys", "Bearer admin_tok"],
      ["/v1/api-keys", "Bearer mk_live_test"],
    ]);
    expect(seen[2]?.body).toBe("{}");
    // An operator-only client may pass the token as apiKey.
    await new Maskline({ apiKey: "admin_tok", baseUrl }).admin.tenants.create({ name: "B" });
    expect(seen[3]?.headers.authorization).toBe("Bearer admin_tok");
    // A client with only adminToken refuses tenant calls before sending anything.
    await expect(new Maskline({ adminToken: "admin_tok", baseUrl }).sessions.get("s")).rejects.toThrow(/apiKey/);
    expect(seen).toHaveLength(4);
  });
});

describe("web console session mode", () => {
  const consoleSession = {
    id: "cs_1",
    kind: "tenant",
    tenantId: "ten_1",
    tenantName: "Acme",
    apiKeyId: "key_1",
    apiKeyStart: "mk_live_ab",
    csrfToken: "csrf-1",
    createdAt: "2025-01-01T00:00:00Z",
    expiresAt: "2025-01-01T12:00:00Z",
    idleTimeoutSeconds: 1800,
  };

  it("sends no Authorization and the current CSRF token on every call, tenant and operator alike", async () => {
    handler = (r, res) => (r.method === "DELETE" ? (res.writeHead(204), res.end()) : json(res, 200, session("ses_1")));
    let token = "csrf-1";
    const m = new Maskline({ baseUrl, session: { csrfToken: () => token } });
    await m.sessions.get("ses_1");
    token = "csrf-2";
    await m.sessions.close("ses_1");
    await m.numbers.delete("num_1");
    expect(seen.map((s) => [s.method, s.headers.authorization, s.headers["x-csrf-token"]])).toEqual([
      ["GET", undefined, "csrf-1"],
      ["POST", undefined, "csrf-2"],
      ["DELETE", undefined, "csrf-2"],
    ]);
    // POSTs keep their automatic Idempotency-Key.
    expect(seen[1]?.headers["idempotency-key"]).toMatch(UUID);
    handler = (_r, res) => json(res, 200, { data: [], nextCursor: null });
    await new Maskline({ baseUrl, session: { csrfToken: "fixed" } }).admin.tenants.list();
    expect(seen[3]?.headers.authorization).toBeUndefined();
    expect(seen[3]?.headers["x-csrf-token"]).toBe("fixed");
  });

  it("signs in with the credential in the body and no CSRF header, then reads and ends the session with the cookie", async () => {
    handler = (r, res) =>
      r.method === "DELETE" ? (res.writeHead(204), res.end()) : json(res, r.method === "POST" ? 201 : 200, consoleSession);
    let csrf: string | undefined;
    const m = new Maskline({ baseUrl, session: { csrfToken: () => csrf } });
    const signed = await m.console.signIn("mk_live_secret");
    csrf = signed.csrfToken;
    expect((await m.console.getSession()).id).toBe("cs_1");
    await m.console.signOut();
    expect(seen.map((s) => [s.method, s.url.pathname, s.headers.authorization, s.headers["x-csrf-token"]])).toEqual([
      ["POST", "/v1/console/session", undefined, undefined],
      ["GET", "/v1/console/session", undefined, "csrf-1"],
      ["DELETE", "/v1/console/session", undefined, "csrf-1"],
    ]);
    expect(JSON.parse(seen[0]!.body)).toEqual({ credential: "mk_live_secret" });
  });

  it("a key client signs in to the console without sending its own key, and needs apiKey, adminToken or session", async () => {
    handler = (_r, res) => json(res, 201, consoleSession);
    await client().console.signIn("other");
    expect(seen[0]?.headers.authorization).toBeUndefined();
    expect(() => new Maskline({ baseUrl } as ConstructorParameters<typeof Maskline>[0])).toThrow(/session/);
  });

  it("reads usage, a tenant's usage and a tenant's keys for the operator", async () => {
    const usage = { since: "2025-01-01T00:00:00Z", liveSessions: 2, numbers: 3, calls: { total: 0, byDecision: {} } };
    handler = (r, res) => (r.url.pathname.endsWith("/api-keys") ? json(res, 200, { data: [], nextCursor: null }) : json(res, 200, usage));
    const m = client({ adminToken: "admin_tok" });
    expect((await m.usage.get({ since: "2025-01-01T00:00:00Z" })).liveSessions).toBe(2);
    await m.admin.tenants.usage("ten_1");
    await m.admin.apiKeys.list("ten_1", { limit: 5 });
    expect(seen.map((s) => [s.url.pathname + s.url.search, s.headers.authorization])).toEqual([
      ["/v1/usage?since=2025-01-01T00%3A00%3A00Z", "Bearer mk_live_test"],
      ["/v1/admin/tenants/ten_1/usage", "Bearer admin_tok"],
      ["/v1/admin/tenants/ten_1/api-keys?limit=5", "Bearer admin_tok"],
    ]);
  });
});

describe("retries", () => {
  it("retries 503 with the same Idempotency-Key, then succeeds", async () => {
    handler = (_r, res, n) => (n < 3 ? problem(res, 503, "unavailable") : json(res, 201, session("ses_ok")));
    const created = await client().sessions.create(createBody);
    expect(created.id).toBe("ses_ok");
    expect(seen).toHaveLength(3);
    const keys = new Set(seen.map((s) => s.headers["idempotency-key"]));
    expect(keys.size).toBe(1);
    expect([...keys][0]).toMatch(UUID);
    expect(seen.every((s) => s.body === seen[0]?.body && s.body.length > 0)).toBe(true);
  });

  it("retries 429 keeping a caller key, and gives up after maxRetries with RateLimitError", async () => {
    handler = (_r, res) => problem(res, 429, "rate_limited", { detail: "slow down" }, { "retry-after": "0" });
    const err = await client({ maxRetries: 2 })
      .sessions.create(createBody, { idempotencyKey: "k-1" })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    expect(err).toMatchObject({ status: 429, code: "rate_limited", retryAfter: 0, requestId: "req_rate_limited" });
    expect(seen).toHaveLength(3);
    expect(seen.map((s) => s.headers["idempotency-key"])).toEqual(["k-1", "k-1", "k-1"]);
  });

  it("honours Retry-After on 429 and 503", async () => {
    handler = (_r, res, n) =>
      n === 1
        ? problem(res, 429, "rate_limited", {}, { "retry-after": "0.5" })
        : n === 2
          ? problem(res, 503, "unavailable", {}, { "retry-after": "0.4" })
          : json(res, 200, session("ses_1"));
    await client().sessions.get("ses_1");
    expect(seen).toHaveLength(3);
    const [a, b, c] = seen.map((s) => s.at) as [number, number, number];
    // Jittered backoff alone would wait at most 200 ms then 400 ms.
    expect(b - a).toBeGreaterThanOrEqual(480);
    expect(c - b).toBeGreaterThanOrEqual(380);
  });

  it("does not wait for a Retry-After longer than a minute: throws at once with retryAfter", async () => {
    handler = (_r, res) => problem(res, 429, "rate_limited", {}, { "retry-after": "3600" });
    const err = await client().calls.get("c").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    expect((err as RateLimitError).retryAfter).toBe(3600);
    expect(seen).toHaveLength(1);
  });

  it("retries a dropped connection with the same Idempotency-Key", async () => {
    handler = (_r, res, n) => (n === 1 ? res.socket?.destroy() : json(res, 201, session("ses_net")));
    const created = await client().sessions.create(createBody);
    expect(created.id).toBe("ses_net");
    expect(seen).toHaveLength(2);
    expect(seen[0]?.headers["idempotency-key"]).toMatch(UUID);
    expect(seen[1]?.headers["idempotency-key"]).toBe(seen[0]?.headers["idempotency-key"]);
  });

  it("throws ConnectionError (no status) once network retries run out", async () => {
    handler = (_r, res) => res.socket?.destroy();
    const err = await client({ maxRetries: 1 }).sessions.get("s").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err).toBeInstanceOf(MasklineError);
    expect((err as ConnectionError).status).toBeUndefined();
    expect((err as ConnectionError).code).toBe("connection_error");
    expect(seen).toHaveLength(2);
  });

  it("throws ConnectionError when nothing listens", async () => {
    const dead = createServer();
    await new Promise<void>((resolve) => dead.listen(0, "127.0.0.1", resolve));
    const port = (dead.address() as AddressInfo).port;
    await new Promise((resolve) => dead.close(resolve));
    const m = new Maskline({ apiKey: "k", baseUrl: `http://127.0.0.1:${port}`, maxRetries: 0 });
    await expect(m.pools.get("default")).rejects.toBeInstanceOf(ConnectionError);
  });

  it("times out an attempt (ConnectionError code timeout) and retries it", async () => {
    // A stalled attempt never answers (a reply "late" by a few hundred ms could still win on a loaded machine, whose
    // timers fire together); the held responses are dropped at the end.
    const held: ServerResponse[] = [];
    try {
      handler = (_r, res, n) => {
        if (n === 1) held.push(res);
        else json(res, 200, session("ses_fast"));
      };
      const got = await client({ timeoutMs: 100 }).sessions.get("s");
      expect(got.id).toBe("ses_fast");
      expect(seen).toHaveLength(2);

      seen = [];
      handler = (_r, res) => void held.push(res);
      const err = await client({ timeoutMs: 100, maxRetries: 0 }).sessions.get("s").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectionError);
      expect((err as ConnectionError).code).toBe("timeout");
      expect(seen).toHaveLength(1);
    } finally {
      for (const res of held) res.destroy();
    }
  });

  it("ends an attempt at its timeout even when fetch never notices the abort, and a caller's abort likewise", async () => {
    // Node's fetch can lose the link between a Request and the signal it was built with (a weak reference, once
    // collected): the abort then never reaches the request. A fetch that ignores its signal stands for that here.
    let calls = 0;
    const deaf = () => {
      calls++;
      return new Promise<Response>(() => undefined);
    };
    const started = Date.now();
    const err = await client({ fetch: deaf, timeoutMs: 50, maxRetries: 1 }).sessions.get("s").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).code).toBe("timeout");
    expect(calls).toBe(2);
    expect(Date.now() - started).toBeLessThan(5_000);

    const ac = new AbortController();
    const reason = new Error("the user left");
    setTimeout(() => ac.abort(reason), 20);
    await expect(client({ fetch: deaf, timeoutMs: 60_000 }).sessions.get("s", { signal: ac.signal })).rejects.toBe(reason);
  });

  it.each([
    [400, "bad_request"],
    [404, "not_found"],
    [409, "conflict"],
    [409, "pool_exhausted"],
    [422, "validation_failed"],
  ])("never retries %i %s", async (status, code) => {
    handler = (_r, res) => problem(res, status, code);
    await expect(client().sessions.create(createBody)).rejects.toBeInstanceOf(MasklineError);
    expect(seen).toHaveLength(1);
  });

  it("stops retrying when the caller aborts", async () => {
    handler = (_r, res) => problem(res, 503, "unavailable", {}, { "retry-after": "10" });
    const ac = new AbortController();
    const reason = new Error("stop");
    setTimeout(() => ac.abort(reason), 100);
    await expect(client().sessions.get("s", { signal: ac.signal })).rejects.toBe(reason);
    expect(seen).toHaveLength(1);
  });
});

describe("errors", () => {
  it.each([
    [401, "unauthorized", AuthenticationError],
    [403, "forbidden", PermissionDeniedError],
    [404, "not_found", NotFoundError],
    [409, "conflict", ConflictError],
    [409, "pool_exhausted", PoolExhaustedError],
    [409, "idempotency_conflict", IdempotencyConflictError],
    [422, "validation_failed", ValidationError],
    [500, "internal_error", ServerError],
  ] as const)("maps %i %s", async (status, code, Class) => {
    handler = (_r, res) => problem(res, status, code, { detail: `detail of ${code}` });
    const err = await client({ maxRetries: 0 }).sessions.create(createBody).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Class);
    expect(err).toBeInstanceOf(MasklineError);
    expect(err).toMatchObject({ status, code, requestId: `req_${code}`, detail: `detail of ${code}`, name: Class.name });
    expect((err as MasklineError).problem?.code).toBe(code);
  });

  it("PoolExhaustedError carries code, requestId and detail, and is a ConflictError", async () => {
    handler = (_r, res) =>
      problem(res, 409, "pool_exhausted", { requestId: "req_42", detail: "no free DID for participant 2" });
    const err = await client().sessions.create(createBody).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PoolExhaustedError);
    expect(err).toBeInstanceOf(ConflictError);
    const e = err as PoolExhaustedError;
    expect([e.status, e.code, e.requestId, e.detail]).toEqual([409, "pool_exhausted", "req_42", "no free DID for participant 2"]);
    expect(e.message).toContain("pool_exhausted");
    expect(e.message).toContain("req_42");
    expect(seen).toHaveLength(1);
  });

  it("PoolExhaustedError.participant is the problem's participant member: position and label, no parsing of detail", async () => {
    handler = (_r, res) => problem(res, 409, "pool_exhausted", { participant: { position: 1, label: "courier" } });
    const err = (await client().sessions.create(createBody).catch((e: unknown) => e)) as PoolExhaustedError;
    expect(err.participant).toEqual({ position: 1, label: "courier" });
    handler = (_r, res) => problem(res, 409, "pool_exhausted");
    const bare = (await client().sessions.create(createBody).catch((e: unknown) => e)) as PoolExhaustedError;
    expect(bare.participant).toBeUndefined();
  });

  it("any error after a Retry-After carries it as retryAfter: a 503 unavailable as well as a 429", async () => {
    handler = (_r, res) => problem(res, 503, "unavailable", {}, { "retry-after": "5" });
    const err = await client({ maxRetries: 0 }).sessions.get("s").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServerError);
    expect((err as ServerError).retryAfter).toBe(5);
    handler = (_r, res) => problem(res, 404, "not_found");
    expect(((await client().sessions.get("s").catch((e: unknown) => e)) as NotFoundError).retryAfter).toBeUndefined();
  });

  it("ValidationError exposes errors[]", async () => {
    const errors = [{ path: "/participants/1/number", message: "not a phone number" }];
    handler = (_r, res) => problem(res, 422, "validation_failed", { errors });
    const err = await client().sessions.create(createBody).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).errors).toEqual(errors);
  });

  it("maps by code before status, and by status when the body is not a problem", async () => {
    handler = (_r, res) => problem(res, 400, "not_found");
    await expect(client().apps.get("a")).rejects.toBeInstanceOf(NotFoundError);
    handler = (_r, res) => {
      res.writeHead(404, { "content-type": "text/plain", "x-request-id": "req_hdr" });
      res.end("nope");
    };
    const err = await client().apps.get("a").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err).toMatchObject({ code: "not_found", requestId: "req_hdr", detail: "nope", problem: undefined });
    handler = (_r, res) => {
      res.writeHead(502, { "content-type": "text/html" });
      res.end("<html>bad gateway</html>");
    };
    const gw = await client({ maxRetries: 0 }).apps.get("a").catch((e: unknown) => e);
    expect(gw).toBeInstanceOf(ServerError);
    expect((gw as ServerError).status).toBe(502);
  });
});

describe("pagination", () => {
  const pages: Record<string, { data: Session[]; nextCursor: string | null }> = {
    first: { data: [session("s1"), session("s2")], nextCursor: "c2" },
    c2: { data: [session("s3"), session("s4")], nextCursor: "c3" },
    c3: { data: [session("s5")], nextCursor: null },
  };
  beforeEach(() => {
    handler = (r, res) => json(res, 200, pages[r.url.searchParams.get("cursor") ?? "first"]);
  });

  it("for await over list() walks all 3 pages, keeping the filters", async () => {
    const ids: string[] = [];
    for await (const s of client().sessions.list({ status: "open", limit: 2 })) ids.push(s.id);
    expect(ids).toEqual(["s1", "s2", "s3", "s4", "s5"]);
    expect(seen).toHaveLength(3);
    expect(seen.map((s) => s.url.search)).toEqual([
      "?status=open&limit=2",
      "?status=open&limit=2&cursor=c2",
      "?status=open&limit=2&cursor=c3",
    ]);
  });

  it("toArray() collects every item across pages, or stops at limit without fetching the pages past it", async () => {
    expect((await client().sessions.list().toArray()).map((s) => s.id)).toEqual(["s1", "s2", "s3", "s4", "s5"]);
    expect(seen).toHaveLength(3);
    seen = [];
    expect((await client().sessions.list().toArray({ limit: 3 })).map((s) => s.id)).toEqual(["s1", "s2", "s3"]);
    expect(seen).toHaveLength(2);
    seen = [];
    const second = await (await client().sessions.list()).nextPage();
    expect((await second!.toArray({ limit: 10 })).map((s) => s.id)).toEqual(["s3", "s4", "s5"]);
    expect(await client().sessions.list().toArray({ limit: 0 })).toEqual([]);
    await expect(client().sessions.list().toArray({ limit: -1 })).rejects.toBeInstanceOf(RangeError);
  });

  it("await list() gives a non-thenable Page with data, nextCursor, hasMore and nextPage()", async () => {
    const page = await client().sessions.list({ status: "open" });
    expect(page).toBeInstanceOf(Page);
    expect("then" in page).toBe(false);
    expect(page.data.map((s) => s.id)).toEqual(["s1", "s2"]);
    expect(page.nextCursor).toBe("c2");
    expect(page.hasMore).toBe(true);
    const second = await page.nextPage();
    expect(second?.data.map((s) => s.id)).toEqual(["s3", "s4"]);
    const third = await second?.nextPage();
    expect(third?.hasMore).toBe(false);
    expect(third?.nextCursor).toBeNull();
    expect(await third?.nextPage()).toBeNull();

    // Iterating an awaited page continues across the later pages.
    const ids: string[] = [];
    for await (const s of page) ids.push(s.id);
    expect(ids).toEqual(["s1", "s2", "s3", "s4", "s5"]);
    // pages() yields whole pages.
    const sizes: number[] = [];
    for await (const p of client().sessions.list().pages()) sizes.push(p.data.length);
    expect(sizes).toEqual([2, 2, 1]);
  });

  it("list().then returns a plain Promise; a failing list rejects both forms", async () => {
    const chained = client().calls.list().then((p) => p.data.length);
    expect(chained.constructor).toBe(Promise);
    expect(await chained).toBe(2);
    handler = (_r, res) => problem(res, 401, "unauthorized");
    await expect(client().calls.list()).rejects.toBeInstanceOf(AuthenticationError);
    const iterate = async (): Promise<void> => {
      for await (const _ of client().calls.list()) void _;
    };
    await expect(iterate()).rejects.toBeInstanceOf(AuthenticationError);
  });

  it("settings.get() and settings.update() call /v1/settings with GET and PATCH", async () => {
    const seen: string[] = [];
    handler = (r, res) => {
      seen.push(`${r.method} ${r.url.pathname} ${r.body}`);
      json(res, 200, { retentionDays: r.method === "PATCH" ? 7 : 90 });
    };
    expect(await client().settings.get()).toEqual({ retentionDays: 90 });
    expect(await client().settings.update({ retentionDays: 7 })).toEqual({ retentionDays: 7 });
    expect(seen).toEqual(["GET /v1/settings ", 'PATCH /v1/settings {"retentionDays":7}']);
  });

  it("pools.list() walks the pages by cursor", async () => {
    const pool = (name: string) => ({ pool: name, numbers: 2, activeSessions: 1, busiestParticipantSessions: 1, headroom: 1, utilisation: 0.5 });
    const seen: string[] = [];
    handler = (r, res) => {
      seen.push(r.url.search);
      if (r.url.searchParams.get("cursor") === "c2") json(res, 200, { data: [pool("north")], nextCursor: null });
      else json(res, 200, { data: [pool("default")], nextCursor: "c2" });
    };
    const names: string[] = [];
    for await (const p of client().pools.list({ limit: 1 })) names.push(p.pool);
    expect(names).toEqual(["default", "north"]);
    expect(seen).toEqual(["?limit=1", "?limit=1&cursor=c2"]);
  });
});

describe("packaging", () => {
  it("the CJS build can be required and works", async () => {
    const require = createRequire(import.meta.url);
    const cjs = require("@maskline/sdk") as typeof import("@maskline/sdk");
    expect(typeof cjs.Maskline).toBe("function");
    expect(require.resolve("@maskline/sdk")).toMatch(/dist[\\/]index\.cjs$/);
    handler = (_r, res) => problem(res, 409, "pool_exhausted");
    const err = await new cjs.Maskline({ apiKey: "k", baseUrl }).sessions.create(createBody).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(cjs.PoolExhaustedError);
    expect(err).toBeInstanceOf(cjs.MasklineError);
    expect(seen[0]?.headers["idempotency-key"]).toMatch(UUID);
  });
});
