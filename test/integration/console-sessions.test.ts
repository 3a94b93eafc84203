/**
 * The web console's sessions through the API (docs/console.md): a key or the operator token exchanged for a cookie,
 * the cookie accepted by every tenant and operator operation in place of the credential, CSRF on every change,
 * sign-out and key revocation ending the session at once, expiry, throttled sign-in, and tenant isolation through
 * the cookie exactly as through the key.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/harness.js";
import { createSession, people, tenantWithPool, type Schemas } from "../support/fixtures.js";
import { problemOf } from "../support/isolation.js";
import { expectNoRealNumbers } from "../support/privacy.js";
import { createTestClock } from "../support/clock.js";
import { IDLE_SECONDS, SIGN_IN_WINDOW_MS } from "../../server/src/services/console-sessions.js";
import { purgeExpiredData } from "../../server/src/jobs/sweeper.js";

const SIGN_IN_FAILURES_ALLOWED = 10;

const clock = createTestClock();
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ clock });
});
afterAll(async () => server?.stop());

interface Signed {
  cookie: string;
  csrf: string;
  session: Schemas["ConsoleSession"];
  setCookie: string;
}

async function signIn(credential: string, srv = server): Promise<Signed> {
  const res = await srv.request("/v1/console/session", { method: "POST", json: { credential } });
  const text = await res.text();
  expect(res.status, text).toBe(201);
  const setCookie = res.headers.get("set-cookie")!;
  const session = JSON.parse(text) as Schemas["ConsoleSession"];
  return { cookie: setCookie.split(";")[0]!, csrf: session.csrfToken, session, setCookie };
}

/** A request with the console's cookie (and its CSRF token unless told otherwise). */
function withCookie(s: Signed, path: string, init: { method?: string; json?: unknown; csrf?: string | null } = {}) {
  const headers: Record<string, string> = { cookie: s.cookie };
  const csrf = init.csrf === undefined ? s.csrf : init.csrf;
  if (csrf !== null) headers["x-csrf-token"] = csrf;
  return server.request(path, { method: init.method ?? "GET", headers, ...(init.json !== undefined ? { json: init.json } : {}) });
}

describe("signing in", () => {
  it("exchanges a tenant key for an HttpOnly, SameSite=Strict session cookie and returns the CSRF token, never the key", async () => {
    const { apiKey, tenantId } = await server.createTenant("Cookie Co");
    const res = await server.request("/v1/console/session", { method: "POST", json: { credential: apiKey } });
    expect(res.status).toBe(201);
    const setCookie = res.headers.get("set-cookie")!;
    expect(setCookie).toMatch(/^maskline_console=[A-Za-z0-9_.-]+; Path=\/; Max-Age=1800; HttpOnly; SameSite=Strict$/);
    expect(setCookie, "no Secure on a plain-http PUBLIC_BASE_URL").not.toMatch(/Secure/);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as Schemas["ConsoleSession"];
    expect(body).toEqual({
      id: expect.stringMatching(/^cs_/),
      kind: "tenant",
      tenantId,
      tenantName: "Cookie Co",
      apiKeyId: expect.stringMatching(/^key_/),
      apiKeyStart: apiKey.slice(0, 12),
      csrfToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      createdAt: expect.any(String),
      expiresAt: expect.any(String),
      idleTimeoutSeconds: IDLE_SECONDS,
    });
    expect(Date.parse(body.expiresAt) - Date.parse(body.createdAt)).toBe(12 * 3600 * 1000);
    // The key appears nowhere in the answer: not in the body, not in the cookie (a signed token naming the row).
    const everything = JSON.stringify(body) + setCookie;
    expect(everything).not.toContain(apiKey);
    expect(everything).not.toContain(apiKey.slice(8));
  });

  it("exchanges the operator token for an operator session, and refuses wrong credentials alike with 401", async () => {
    const op = await signIn(server.adminToken);
    expect(op.session).toMatchObject({ kind: "operator", tenantId: null, tenantName: null, apiKeyId: null, apiKeyStart: null });
    for (const credential of ["mk_live_1111111111111111111111111111", "not-the-operator-token-at-all", `${server.adminToken}x`]) {
      const res = await server.request("/v1/console/session", { method: "POST", json: { credential }, headers: { "x-forwarded-for": "10.9.9.9" } });
      expect(res.status).toBe(401);
      expect(res.headers.get("set-cookie")).toBeNull();
      expect((await problemOf(res)).code).toBe("unauthorized");
    }
  });

  it("refuses a body without a credential, or with more than one field, as 422 and a form body as 415", async () => {
    for (const json of [{}, { credential: "" }, { credential: "x", apiKey: "y" }, { credential: "k".repeat(513) }, []]) {
      const res = await server.request("/v1/console/session", { method: "POST", json });
      expect(res.status, JSON.stringify(json)).toBe(422);
      expect((await problemOf(res)).code).toBe("validation_failed");
    }
    const form = await server.request("/v1/console/session", { method: "POST", body: "credential=x", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(form.status).toBe(415);
  });

  it("marks the cookie Secure, with the __Host- prefix, when the public URL is https", async () => {
    const secure = await startTestServer({ env: { PUBLIC_BASE_URL: "https://masking.example.com" } });
    try {
      const { apiKey } = await secure.createTenant();
      const res = await secure.request("/v1/console/session", { method: "POST", json: { credential: apiKey } });
      expect(res.status).toBe(201);
      const setCookie = res.headers.get("set-cookie")!;
      expect(setCookie).toMatch(/^__Host-maskline_console=[^;]+; Path=\/; Max-Age=1800; HttpOnly; SameSite=Strict; Secure$/);
      // The plain name is not read there: a cookie planted by a sibling http page does not count.
      const planted = await secure.request("/v1/console/session", { headers: { cookie: `maskline_console=${setCookie.split(";")[0]!.split("=")[1]}` } });
      expect(planted.status).toBe(401);
      const real = await secure.request("/v1/console/session", { headers: { cookie: setCookie.split(";")[0]! } });
      expect(real.status).toBe(200);
    } finally {
      await secure.stop();
    }
  });
});

describe("the cookie in place of the key", () => {
  it("reads and changes the tenant's resources through the same /v1 operations, recording the console session in the audit log", async () => {
    const t = await tenantWithPool(server);
    const s = await signIn(t.apiKey);
    const [a, b] = people(2) as [string, string];
    const created = (await (await createSession(server, t.apiKey, { participants: [{ number: a }, { number: b }], reference: "console-1" })).json()) as Schemas["Session"];
    const listed = await withCookie(s, "/v1/sessions?reference=console-1", { csrf: null });
    expect(listed.status).toBe(200);
    const listText = await listed.text();
    expect((JSON.parse(listText) as { data: Array<{ id: string }> }).data.map((x) => x.id)).toEqual([created.id]);
    expectNoRealNumbers(listText, [a, b]);
    const closed = await withCookie(s, `/v1/sessions/${created.id}/close`, { method: "POST" });
    expect(closed.status).toBe(200);
    const viaApi = (await (await server.request(`/v1/sessions/${created.id}`, { apiKey: t.apiKey })).json()) as Schemas["Session"];
    expect(viaApi.status).toBe("closed");
    const audit = (await (await server.request(`/v1/audit-events?action=session.closed`, { apiKey: t.apiKey })).json()) as { data: Schemas["AuditEvent"][] };
    expect(audit.data[0]).toMatchObject({ resourceId: created.id, actor: { type: "api_key", apiKeyId: s.session.apiKeyId, consoleSessionId: s.session.id } });
  });

  it("refuses a change without the CSRF token (403) and changes nothing; a wrong token is refused alike", async () => {
    const t = await tenantWithPool(server);
    const s = await signIn(t.apiKey);
    const [a, b] = people(2) as [string, string];
    const created = (await (await createSession(server, t.apiKey, { participants: [{ number: a }, { number: b }] })).json()) as Schemas["Session"];
    for (const csrf of [null, "", "wrong-token", s.csrf.slice(0, -1)]) {
      for (const [method, path, json] of [
        ["POST", `/v1/sessions/${created.id}/close`, undefined],
        ["PATCH", `/v1/sessions/${created.id}`, { ttlSeconds: 60 }],
        ["POST", "/v1/api-keys", { name: "forged" }],
        ["DELETE", `/v1/api-keys/${s.session.apiKeyId}`, undefined],
        ["DELETE", "/v1/console/session", undefined],
      ] as const) {
        const res = await withCookie(s, path, { method, csrf, ...(json ? { json } : {}) });
        expect(res.status, `${method} ${path} with CSRF ${JSON.stringify(csrf)}`).toBe(403);
        expect((await problemOf(res)).code).toBe("forbidden");
      }
    }
    const still = (await (await server.request(`/v1/sessions/${created.id}`, { apiKey: t.apiKey })).json()) as Schemas["Session"];
    expect(still.status).toBe("open");
    expect(still.expiresAt).toBe(created.expiresAt);
    const keys = (await (await server.request("/v1/api-keys", { apiKey: t.apiKey })).json()) as { data: Schemas["ApiKey"][] };
    expect(keys.data.map((k) => k.name)).not.toContain("forged");
    expect(keys.data.every((k) => k.revokedAt === null)).toBe(true);
    expect((await withCookie(s, "/v1/console/session")).status).toBe(200);
  });

  it("judges a request by its Authorization header when one is sent, whatever the cookie", async () => {
    const t = await server.createTenant();
    const s = await signIn(t.apiKey);
    const res = await server.request("/v1/sessions", { headers: { cookie: s.cookie, authorization: "Bearer mk_live_1111111111111111111111111111" } });
    expect(res.status).toBe(401);
    // ...and a key needs no CSRF token: only the cookie does.
    const other = await server.createTenant();
    const byKey = await server.request("/v1/api-keys", { method: "POST", headers: { cookie: s.cookie }, apiKey: other.apiKey, json: {} });
    expect(byKey.status).toBe(201);
  });

  it("keeps a tenant's session off the operator API and the operator's off a tenant's", async () => {
    const t = await server.createTenant();
    const tenant = await signIn(t.apiKey);
    const op = await signIn(server.adminToken);
    expect((await withCookie(tenant, "/v1/admin/tenants")).status).toBe(401);
    expect((await withCookie(tenant, `/v1/admin/tenants/${t.tenantId}/api-keys`, { method: "POST", json: {} })).status).toBe(401);
    expect((await withCookie(op, "/v1/sessions")).status).toBe(401);
    const created = await withCookie(op, "/v1/admin/tenants", { method: "POST", json: { name: "By the operator's console" } });
    expect(created.status).toBe(201);
    const body = (await created.json()) as Schemas["CreateTenantResponse"];
    const keys = await withCookie(op, `/v1/admin/tenants/${body.tenant.id}/api-keys`);
    expect(((await keys.json()) as { data: Schemas["ApiKey"][] }).data.map((k) => k.id)).toEqual([body.apiKey.id]);
    const audit = (await (await server.request(`/v1/audit-events?action=tenant.created`, { apiKey: body.apiKey.secret })).json()) as { data: Schemas["AuditEvent"][] };
    expect(audit.data[0]!.actor).toEqual({ type: "operator", apiKeyId: null, consoleSessionId: op.session.id });
  });

  it("gives another tenant's ids the same 404 through the console as through the API", async () => {
    const owner = await tenantWithPool(server);
    const [a, b] = people(2) as [string, string];
    const session = (await (await createSession(server, owner.apiKey, { participants: [{ number: a }, { number: b }] })).json()) as Schemas["Session"];
    const numbers = (await (await server.request("/v1/numbers", { apiKey: owner.apiKey })).json()) as { data: Array<{ id: string }> };
    const keys = (await (await server.request("/v1/api-keys", { apiKey: owner.apiKey })).json()) as { data: Array<{ id: string }> };
    const intruder = await server.createTenant();
    const s = await signIn(intruder.apiKey);
    const probes: Array<[string, string, unknown?]> = [
      ["GET", `/v1/sessions/${session.id}`],
      ["PATCH", `/v1/sessions/${session.id}`, { ttlSeconds: 60 }],
      ["POST", `/v1/sessions/${session.id}/close`],
      ["GET", `/v1/apps/${owner.app.id}`],
      ["GET", `/v1/numbers/${numbers.data[0]!.id}`],
      ["DELETE", `/v1/numbers/${numbers.data[0]!.id}`],
      ["DELETE", `/v1/api-keys/${keys.data[0]!.id}`],
      ["GET", `/v1/pools/${owner.pool}`],
    ];
    for (const [method, path, json] of probes) {
      const viaConsole = await withCookie(s, path, { method, ...(json ? { json } : {}) });
      const viaKey = await server.request(path, { method, apiKey: intruder.apiKey, ...(json ? { json } : {}) });
      expect(viaConsole.status, `${method} ${path} through the console`).toBe(404);
      expect(viaKey.status, `${method} ${path} through the API`).toBe(404);
      const [pc, pk] = [await problemOf(viaConsole), await problemOf(viaKey)];
      expect({ code: pc.code, detail: pc.detail }).toEqual({ code: pk.code, detail: pk.detail });
    }
    const list = (await (await withCookie(s, "/v1/sessions")).json()) as { data: unknown[] };
    expect(list.data).toEqual([]);
    const still = (await (await server.request(`/v1/sessions/${session.id}`, { apiKey: owner.apiKey })).json()) as Schemas["Session"];
    expect(still.status).toBe("open");
  });
});

describe("how a session ends", () => {
  it("ends on sign-out, on the server: the same cookie is refused afterwards, and the answer clears it", async () => {
    const t = await server.createTenant();
    const s = await signIn(t.apiKey);
    const out = await withCookie(s, "/v1/console/session", { method: "DELETE" });
    expect(out.status).toBe(204);
    expect(out.headers.get("set-cookie")).toMatch(/^maskline_console=; Path=\/; Max-Age=0; HttpOnly; SameSite=Strict$/);
    for (const path of ["/v1/console/session", "/v1/sessions", "/v1/api-keys"]) {
      const res = await withCookie(s, path);
      expect(res.status, path).toBe(401);
      expect((await problemOf(res)).code).toBe("unauthorized");
    }
    expect((await withCookie(s, "/v1/console/session", { method: "DELETE" })).status).toBe(401);
  });

  it("leaves no row behind: an ended session's row is purged a day after it ended, a live one's is kept", async () => {
    // On a database of its own (embedded): a purge a day ahead on a shared database would take other files' rows.
    const own = await startTestServer({ clock, env: { DATABASE_URL: "", REDIS_URL: "" } });
    try {
      const t = await own.createTenant();
      const signInOwn = async () => {
        const res = await own.request("/v1/console/session", { method: "POST", json: { credential: t.apiKey } });
        expect(res.status).toBe(201);
        return { cookie: res.headers.get("set-cookie")!.split(";")[0]!, session: (await res.json()) as Schemas["ConsoleSession"] };
      };
      const ended = await signInOwn();
      const out = await own.request("/v1/console/session", { method: "DELETE", headers: { cookie: ended.cookie, "x-csrf-token": ended.session.csrfToken } });
      expect(out.status).toBe(204);
      const rowOf = (id: string) => own.deps.db("console_sessions").where({ scope: t.tenantId, id }).first();
      clock.shift(25 * 3_600_000);
      const live = await signInOwn();
      const purged = await purgeExpiredData(own.deps);
      expect(purged.consoleSessions).toBe(1);
      expect(await rowOf(ended.session.id)).toBeUndefined();
      expect(await rowOf(live.session.id)).toBeDefined();
      expect((await own.request("/v1/console/session", { headers: { cookie: live.cookie } })).status).toBe(200);
    } finally {
      clock.reset();
      await own.stop();
    }
  });

  it("ends when its API key is revoked, through the API or through the console itself", async () => {
    const t = await server.createTenant();
    const s = await signIn(t.apiKey);
    const revoked = await server.request(`/v1/api-keys/${s.session.apiKeyId}`, { method: "DELETE", apiKey: t.apiKey });
    expect(revoked.status).toBe(204);
    expect((await withCookie(s, "/v1/console/session")).status).toBe(401);
    expect((await withCookie(s, "/v1/sessions")).status).toBe(401);
    // A second key's session revoking its own key: the revocation succeeds, and the session is gone with it.
    const created = (await (await server.request("/v1/admin/tenants", { method: "POST", headers: { authorization: `Bearer ${server.adminToken}` }, json: { name: "Self" } })).json()) as Schemas["CreateTenantResponse"];
    const own = await signIn(created.apiKey.secret);
    expect((await withCookie(own, `/v1/api-keys/${own.session.apiKeyId}`, { method: "DELETE" })).status).toBe(204);
    expect((await withCookie(own, "/v1/api-keys")).status).toBe(401);
    // Signing in again with the revoked key is refused like any wrong credential.
    expect((await server.request("/v1/console/session", { method: "POST", json: { credential: created.apiKey.secret } })).status).toBe(401);
  });

  it("expires after 30 minutes without a request, re-issuing the cookie as requests come", async () => {
    const t = await server.createTenant();
    const s = await signIn(t.apiKey);
    clock.shift(2 * 60_000);
    try {
      const res = await withCookie(s, "/v1/console/session");
      expect(res.status).toBe(200);
      const fresh = res.headers.get("set-cookie");
      expect(fresh, "a token over a minute old is re-issued").toMatch(/^maskline_console=[^;]+; Path=\/; Max-Age=1800;/);
      const renewed = { ...s, cookie: fresh!.split(";")[0]! };
      clock.shift((IDLE_SECONDS - 60) * 1000);
      expect((await withCookie(renewed, "/v1/console/session")).status, "the renewed token outlives the first").toBe(200);
      expect((await withCookie(s, "/v1/console/session")).status, "the first token has expired").toBe(401);
      clock.shift((IDLE_SECONDS + 1) * 1000);
      expect((await withCookie(renewed, "/v1/console/session")).status, "idle past 30 minutes").toBe(401);
    } finally {
      clock.reset();
    }
  });

  it("refuses forged, altered and malformed cookies alike", async () => {
    const t = await server.createTenant();
    const s = await signIn(t.apiKey);
    const token = s.cookie.split("=")[1]!;
    const [h, p, sig] = token.split(".") as [string, string, string];
    const payload = JSON.parse(Buffer.from(p, "base64url").toString()) as Record<string, unknown>;
    const other = await server.createTenant();
    const altered = Buffer.from(JSON.stringify({ ...payload, scope: other.tenantId })).toString("base64url");
    const none = `${Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url")}.${p}.`;
    for (const value of [`${h}.${altered}.${sig}`, `${h}.${p}.${sig.slice(0, -2)}AA`, none, "garbage", "a".repeat(3000), ""]) {
      const res = await server.request("/v1/sessions", { headers: { cookie: `maskline_console=${value}` } });
      expect(res.status, value.slice(0, 20)).toBe(401);
      expect((await problemOf(res)).code).toBe("unauthorized");
    }
  });
});

describe("sign-in attempts", () => {
  // A server with the production limit (the harness lifts it for every other test), behind a "proxy" so that each
  // test signs in from an address of its own: no other test, file or run (they share Redis) shares its counter.
  let limited: TestServer;
  let address = "";
  beforeAll(async () => {
    limited = await startTestServer({ clock, env: { MASKLINE_CONSOLE_SIGN_IN_ATTEMPTS: String(SIGN_IN_FAILURES_ALLOWED), MASKLINE_TRUST_PROXY: "true" } });
  });
  beforeEach(() => {
    address = `10.${Math.floor(Math.random() * 256)}.${Math.floor(Math.random() * 256)}.${Math.floor(Math.random() * 254) + 1}`;
  });
  const signInFrom = (credential: string) =>
    limited.request("/v1/console/session", { method: "POST", json: { credential }, headers: { "x-forwarded-for": address } });
  afterAll(async () => limited?.stop());

  it("refuses an address after 10 wrong credentials in its window with 429 and Retry-After, even for a right one", async () => {
    const { apiKey } = await limited.createTenant();
    // A window of its own: far from now, so other files signing in from 127.0.0.1 share no counter with this test.
    clock.shift(Math.floor(Math.random() * 1000 + 1000) * SIGN_IN_WINDOW_MS);
    try {
      for (let i = 0; i < SIGN_IN_FAILURES_ALLOWED; i++) {
        const res = await signInFrom(`wrong-${i}`);
        expect(res.status).toBe(401);
      }
      for (const credential of ["wrong-again", apiKey]) {
        const res = await signInFrom(credential);
        expect(res.status).toBe(429);
        expect((await problemOf(res)).code).toBe("rate_limited");
        const retryAfter = Number(res.headers.get("retry-after"));
        expect(retryAfter).toBeGreaterThan(0);
        expect(retryAfter).toBeLessThanOrEqual(SIGN_IN_WINDOW_MS / 1000);
      }
      clock.shift(SIGN_IN_WINDOW_MS);
      expect((await signInFrom(apiKey)).status).toBe(201);
    } finally {
      clock.reset();
    }
  });

  it("counts parallel wrong credentials exactly: of 25 at once, 10 are judged (401) and 15 refused (429)", async () => {
    clock.shift(Math.floor(Math.random() * 1000 + 3000) * SIGN_IN_WINDOW_MS);
    try {
      const statuses = await Promise.all(
        Array.from({ length: 25 }, (_, i) => signInFrom(`guess-${i}`).then((r) => r.status)),
      );
      expect(statuses.filter((s) => s === 401)).toHaveLength(SIGN_IN_FAILURES_ALLOWED);
      expect(statuses.filter((s) => s === 429)).toHaveLength(25 - SIGN_IN_FAILURES_ALLOWED);
    } finally {
      clock.reset();
    }
  });

  it("does not count right credentials: nine wrong, then twenty right, leave the tenth wrong one a 401", async () => {
    const { apiKey } = await limited.createTenant();
    clock.shift(Math.floor(Math.random() * 1000 + 5000) * SIGN_IN_WINDOW_MS);
    try {
      for (let i = 0; i < SIGN_IN_FAILURES_ALLOWED - 1; i++) {
        expect((await signInFrom(`wrong-${i}`)).status).toBe(401);
      }
      for (let i = 0; i < 20; i++) {
        expect((await signInFrom(apiKey)).status).toBe(201);
      }
      expect((await signInFrom("wrong-last")).status).toBe(401);
      expect((await signInFrom("wrong-over")).status).toBe(429);
    } finally {
      clock.reset();
    }
  });

  it("counts per client behind a trusted proxy (MASKLINE_TRUST_PROXY), and ignores X-Forwarded-For otherwise", async () => {
    const proxied = await startTestServer({ clock, env: { MASKLINE_TRUST_PROXY: "true", MASKLINE_CONSOLE_SIGN_IN_ATTEMPTS: "2" } });
    const direct = await startTestServer({ clock, env: { MASKLINE_CONSOLE_SIGN_IN_ATTEMPTS: "2" } });
    // The direct server counts 127.0.0.1, shared with every run on this Redis: a window of its own among a million
    // (a thousand let two runs within the counter's 15 minutes meet once in CI).
    clock.shift(Math.floor(Math.random() * 1_000_000 + 10_000) * SIGN_IN_WINDOW_MS);
    const attempt = (srv: TestServer, forwardedFor: string) =>
      srv.request("/v1/console/session", { method: "POST", json: { credential: "wrong" }, headers: { "x-forwarded-for": forwardedFor } }).then((r) => r.status);
    try {
      // Two clients behind the proxy: each has its own allowance. A client-written entry before the proxy's is ignored.
      const neighbour = address.replace(/\d+$/, (n) => String((Number(n) % 254) + 1));
      expect([await attempt(proxied, address), await attempt(proxied, `198.51.100.1, ${address}`)]).toEqual([401, 401]);
      expect(await attempt(proxied, address)).toBe(429);
      expect(await attempt(proxied, neighbour)).toBe(401);
      // Without the setting, the header is the client's word: changing it does not buy more attempts.
      expect([await attempt(direct, "192.0.2.1"), await attempt(direct, "192.0.2.2")]).toEqual([401, 401]);
      expect(await attempt(direct, "192.0.2.3")).toBe(429);
    } finally {
      clock.reset();
      await proxied.stop();
      await direct.stop();
    }
  });
});

describe("the console's files", () => {
  let built: TestServer;
  let missing: TestServer;
  const dir = mkdtempSync(join(tmpdir(), "maskline-console-dist-"));
  beforeAll(async () => {
    mkdirSync(join(dir, "assets"));
    writeFileSync(join(dir, "index.html"), '<!doctype html><script type="module" src="/console/assets/app-abc123.js"></script>');
    writeFileSync(join(dir, "assets", "app-abc123.js"), "console.log('hi')");
    built = await startTestServer({ env: { MASKLINE_CONSOLE_DIR: dir } });
    missing = await startTestServer({ env: { MASKLINE_CONSOLE_DIR: join(dir, "nowhere") } });
  });
  afterAll(async () => {
    await built?.stop();
    await missing?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves the page at /console and every path under it, uncached, with a strict CSP and the other console headers", async () => {
    for (const path of ["/console", "/console/", "/console/sessions/ses_123", "/console/keys?x=1"]) {
      const res = await built.request(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(await res.text()).toContain("/console/assets/app-abc123.js");
      expect(res.headers.get("cache-control")).toBe("no-cache");
      const csp = res.headers.get("content-security-policy")!;
      for (const directive of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "form-action 'self'"]) {
        expect(csp).toContain(directive);
      }
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      expect(res.headers.get("referrer-policy")).toBe("no-referrer");
      expect(res.headers.get("cross-origin-opener-policy")).toBe("same-origin");
    }
  });

  it("serves hashed assets cached for a year as immutable, and an unknown asset as a 404 problem, never the page", async () => {
    const asset = await built.request("/console/assets/app-abc123.js");
    expect(asset.status).toBe(200);
    expect(asset.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    for (const path of ["/console/assets/nope.js", "/console/assets/%2e%2e%2findex.html", "/console/assets/sub/app-abc123.js", "/console/assets/"]) {
      const res = await built.request(path);
      expect(res.status, path).toBe(404);
      expect((await problemOf(res)).code).toBe("not_found");
    }
  });

  it("answers a change to a console path with 405, and a console that was not built with a page saying how to build it (503, not 500)", async () => {
    const post = await built.request("/console", { method: "POST", json: {} });
    expect(post.status).toBe(405);
    expect((await problemOf(post)).code).toBe("method_not_allowed");
    const res = await missing.request("/console/sessions");
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await res.text()).toContain("pnpm build");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'self'");
    // The API is unaffected.
    expect((await missing.request("/healthz")).status).toBe(200);
  });
});
