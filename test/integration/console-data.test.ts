/**
 * What the console reads that the API did not have before: usage (live sessions, numbers, calls by decision since a
 * time, and the operator's view of it per tenant), calls by time, an app's last signed request, and the operator's
 * list of a tenant's keys. Each tenant's figures are its own; none holds a real number.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/harness.js";
import { createSession, people, tenantWithPool, AUTH_TOKEN, type Schemas, type TenantFixture } from "../support/fixtures.js";
import { problemOf } from "../support/isolation.js";
import { expectNoRealNumbers } from "../support/privacy.js";
import { VobizSimulator } from "../sim/vobiz-simulator.js";

let server: TestServer;
const realNumbersSeen: string[] = [];
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  expectNoRealNumbers(server.logs.join(""), realNumbersSeen);
  await server?.stop();
});

// A bearer token that is neither a key nor the operator token.
const admin = { authorization: "Bearer not-the-operator-token-0123" };
const get = async <T>(path: string, auth: { apiKey?: string; headers?: Record<string, string> }, status = 200) => {
  const res = await server.request(path, auth);
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return { body: JSON.parse(text) as T, text };
};

async function world() {
  const t = await tenantWithPool(server, { dids: 2 });
  const [a, b, stranger] = people(3) as [string, string, string];
  realNumbersSeen.push(a, b, stranger);
  const session = (await (await createSession(server, t.apiKey, { participants: [{ number: a }, { number: b }] })).json()) as Schemas["Session"];
  const sim = new VobizSimulator({ authToken: AUTH_TOKEN, answerUrl: t.app.answerUrl, hangupUrl: t.app.hangupUrl });
  return { t, a, b, stranger, session, sim };
}

describe("usage", () => {
  it("counts live sessions, active numbers, and calls since a time by decision, for the tenant alone", async () => {
    const w = await world();
    const before = new Date(Date.now() - 1000).toISOString();
    expect((await w.sim.placeCall({ from: w.a, to: w.session.participants[0]!.proxyNumber })).kind).toBe("dial");
    expect((await w.sim.placeCall({ from: w.stranger, to: w.session.participants[0]!.proxyNumber })).kind).toBe("reject");
    expect((await w.sim.placeCall({ from: w.b, to: w.session.participants[1]!.proxyNumber })).kind).toBe("dial");
    const { body, text } = await get<Schemas["Usage"]>(`/v1/usage?since=${encodeURIComponent(before)}`, { apiKey: w.t.apiKey });
    expect(body).toEqual({
      since: before,
      liveSessions: 1,
      numbers: 2,
      calls: {
        total: 3,
        byDecision: {
          bridged: 2,
          rejected_unknown_caller: 1,
          rejected_session_closed: 0,
          rejected_session_expired: 0,
          rejected_one_way: 0,
          rejected_invalid_number: 0,
          rejected_wrong_pin: 0,
          rejected_pin_locked: 0,
          pending: 0,
          unavailable: 0,
        },
      },
    });
    expectNoRealNumbers(text, [w.a, w.b, w.stranger]);
    // Since later: no calls; a closed session is no longer live.
    await server.request(`/v1/sessions/${w.session.id}/close`, { method: "POST", apiKey: w.t.apiKey });
    const later = await get<Schemas["Usage"]>(`/v1/usage?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`, { apiKey: w.t.apiKey });
    expect(later.body).toMatchObject({ liveSessions: 0, numbers: 2, calls: { total: 0 } });
    // Without `since`: the last 24 hours.
    const day = await get<Schemas["Usage"]>("/v1/usage", { apiKey: w.t.apiKey });
    expect(Math.abs(Date.parse(day.body.since) - (Date.now() - 86_400_000))).toBeLessThan(60_000);
    expect(day.body.calls.total).toBe(3);
    // Another tenant sees none of it.
    const other = await server.createTenant();
    const theirs = await get<Schemas["Usage"]>(`/v1/usage?since=${encodeURIComponent(before)}`, { apiKey: other.apiKey });
    expect(theirs.body).toMatchObject({ liveSessions: 0, numbers: 0, calls: { total: 0 } });
  });

  it("gives the operator the same figures for one tenant, and 404 for a tenant that does not exist", async () => {
    const w = await world();
    const before = new Date(Date.now() - 1000).toISOString();
    await w.sim.placeCall({ from: w.stranger, to: w.session.participants[0]!.proxyNumber });
    const headers = { authorization: `Bearer ${server.adminToken}` };
    const viaOperator = await get<Schemas["Usage"]>(`/v1/admin/tenants/${w.t.tenantId}/usage?since=${encodeURIComponent(before)}`, { headers });
    const viaTenant = await get<Schemas["Usage"]>(`/v1/usage?since=${encodeURIComponent(before)}`, { apiKey: w.t.apiKey });
    expect(viaOperator.body).toEqual(viaTenant.body);
    expect(viaOperator.body.calls.byDecision.rejected_unknown_caller).toBe(1);
    const missing = await server.request("/v1/admin/tenants/ten_00000000000000000000000000/usage", { headers });
    expect(missing.status).toBe(404);
    expect((await server.request(`/v1/admin/tenants/${w.t.tenantId}/usage`, { apiKey: w.t.apiKey })).status).toBe(401);
    expect((await server.request(`/v1/admin/tenants/${w.t.tenantId}/usage`, { headers: admin })).status).toBe(401);
  });

  it("refuses a since that is not a date-time, or is more than 31 days ago, with 422", async () => {
    const { apiKey } = await server.createTenant();
    const longAgo = new Date(Date.now() - 32 * 86_400_000).toISOString();
    for (const since of ["yesterday", "2026-13-01T00:00:00Z", "", "2026-06-30T23:59:60Z", longAgo]) {
      const res = await server.request(`/v1/usage?since=${encodeURIComponent(since)}`, { apiKey });
      expect(res.status, since).toBe(422);
      expect((await problemOf(res)).code).toBe("validation_failed");
    }
  });
});

describe("calls by time", () => {
  it("lists the calls that started in [since, until) and refuses a malformed bound", async () => {
    const w = await world();
    await w.sim.placeCall({ from: w.a, to: w.session.participants[0]!.proxyNumber });
    const call = (await get<Schemas["CallList"]>(`/v1/calls?sessionId=${w.session.id}`, { apiKey: w.t.apiKey })).body.data[0]!;
    const at = Date.parse(call.startedAt);
    const q = (since: number, until: number) =>
      `/v1/calls?sessionId=${w.session.id}&since=${encodeURIComponent(new Date(since).toISOString())}&until=${encodeURIComponent(new Date(until).toISOString())}`;
    expect((await get<Schemas["CallList"]>(q(at, at + 1), { apiKey: w.t.apiKey })).body.data.map((c) => c.id)).toEqual([call.id]);
    expect((await get<Schemas["CallList"]>(q(at + 1, at + 60_000), { apiKey: w.t.apiKey })).body.data).toEqual([]);
    expect((await get<Schemas["CallList"]>(q(at - 60_000, at), { apiKey: w.t.apiKey })).body.data).toEqual([]);
    const bad = await server.request(`/v1/calls?since=today`, { apiKey: w.t.apiKey });
    expect(bad.status).toBe(422);
  });
});

describe("an app's last signed request", () => {
  it("is null until the carrier's signed request arrives, then the time it arrived; an unsigned or wrongly signed one does not count", async () => {
    const t: TenantFixture = await tenantWithPool(server, { dids: 1 });
    const [stranger] = people(1) as [string];
    realNumbersSeen.push(stranger);
    const app = () => get<Schemas["App"]>(`/v1/apps/${t.app.id}`, { apiKey: t.apiKey });
    expect((await app()).body.lastSignedRequestAt).toBeNull();
    const wrong = new VobizSimulator({ authToken: "not-the-token", answerUrl: t.app.answerUrl, hangupUrl: t.app.hangupUrl });
    expect((await wrong.placeCall({ from: stranger, to: t.dids[0]! })).status).toBe(403);
    await new Promise((r) => setTimeout(r, 100));
    expect((await app()).body.lastSignedRequestAt).toBeNull();
    const before = Date.now() - 1000;
    const sim = new VobizSimulator({ authToken: AUTH_TOKEN, answerUrl: t.app.answerUrl, hangupUrl: t.app.hangupUrl });
    expect((await sim.placeCall({ from: stranger, to: t.dids[0]! })).status).toBe(200);
    // Written off the call's path: it lands a moment after the reply.
    let seen: string | null = null;
    for (let i = 0; i < 50 && seen === null; i++) {
      seen = (await app()).body.lastSignedRequestAt;
      if (seen === null) await new Promise((r) => setTimeout(r, 50));
    }
    expect(seen).not.toBeNull();
    expect(Date.parse(seen!)).toBeGreaterThanOrEqual(before);
    const listed = (await get<Schemas["AppList"]>("/v1/apps", { apiKey: t.apiKey })).body.data.find((a) => a.id === t.app.id)!;
    expect(listed.lastSignedRequestAt).toBe(seen);
  });
});

describe("the operator's list of a tenant's keys", () => {
  it("lists the tenant's keys newest first without secrets, revoked ones marked, and 404 for an unknown tenant", async () => {
    const headers = { authorization: `Bearer ${server.adminToken}` };
    const { tenantId, apiKey } = await server.createTenant();
    const second = (await (await server.request(`/v1/admin/tenants/${tenantId}/api-keys`, { method: "POST", headers, json: { name: "second" } })).json()) as Schemas["ApiKeyWithSecret"];
    await server.request(`/v1/api-keys/${second.id}`, { method: "DELETE", apiKey });
    const { body, text } = await get<Schemas["ApiKeyList"]>(`/v1/admin/tenants/${tenantId}/api-keys`, { headers });
    expect(body.data.map((k) => [k.name, k.revokedAt === null])).toEqual([
      ["second", false],
      ["default", true],
    ]);
    expect(text).not.toContain(apiKey);
    expect(text).not.toContain(second.secret);
    expect((await server.request("/v1/admin/tenants/ten_00000000000000000000000000/api-keys", { headers })).status).toBe(404);
  });

  it("lets the operator revoke a tenant's key: refused at once with its console session; another tenant's key named here is a 404", async () => {
    const headers = { authorization: `Bearer ${server.adminToken}` };
    const { tenantId, apiKey } = await server.createTenant();
    const other = await server.createTenant();
    const leaked = (await (await server.request(`/v1/admin/tenants/${tenantId}/api-keys`, { method: "POST", headers, json: { name: "leaked" } })).json()) as Schemas["ApiKeyWithSecret"];
    const signedIn = await server.request("/v1/console/session", { method: "POST", json: { credential: leaked.secret } });
    expect(signedIn.status).toBe(201);
    const cookie = signedIn.headers.get("set-cookie")!.split(";")[0]!;
    expect((await server.request("/v1/console/session", { headers: { cookie } })).status).toBe(200);

    // The tenant's own key is not the operator's credential, nor is a tenant's console cookie; the operator's cookie
    // needs its CSRF token like every change.
    const revokePath = `/v1/admin/tenants/${tenantId}/api-keys/${leaked.id}`;
    expect((await server.request(revokePath, { method: "DELETE", apiKey })).status).toBe(401);
    const tenantCookie = await server.request("/v1/console/session", { method: "POST", json: { credential: apiKey } });
    expect((await server.request(revokePath, { method: "DELETE", headers: { cookie: tenantCookie.headers.get("set-cookie")!.split(";")[0]!, "x-csrf-token": ((await tenantCookie.json()) as Schemas["ConsoleSession"]).csrfToken } })).status).toBe(401);
    const operatorCookie = (await server.request("/v1/console/session", { method: "POST", json: { credential: server.adminToken } })).headers.get("set-cookie")!.split(";")[0]!;
    expect((await server.request(revokePath, { method: "DELETE", headers: { cookie: operatorCookie } })).status).toBe(403);
    expect((await server.request("/v1/api-keys", { apiKey: leaked.secret })).status).toBe(200);
    // Another tenant's key, named under this tenant (or under an unknown one): 404, and it keeps working.
    const otherKeys = await get<Schemas["ApiKeyList"]>(`/v1/admin/tenants/${other.tenantId}/api-keys`, { headers });
    const otherKeyId = otherKeys.body.data[0]!.id;
    for (const path of [`/v1/admin/tenants/${tenantId}/api-keys/${otherKeyId}`, `/v1/admin/tenants/ten_00000000000000000000000000/api-keys/${leaked.id}`]) {
      const res = await server.request(path, { method: "DELETE", headers });
      expect(res.status, path).toBe(404);
      expect((await problemOf(res)).code).toBe("not_found");
    }
    expect((await server.request("/v1/api-keys", { apiKey: other.apiKey })).status).toBe(200);

    for (let i = 0; i < 2; i++) {
      expect((await server.request(`/v1/admin/tenants/${tenantId}/api-keys/${leaked.id}`, { method: "DELETE", headers })).status).toBe(204);
    }
    expect((await server.request("/v1/api-keys", { apiKey: leaked.secret })).status).toBe(401);
    expect((await server.request("/v1/console/session", { headers: { cookie } })).status).toBe(401);
    expect((await server.request("/v1/api-keys", { apiKey })).status).toBe(200);
  });
});
