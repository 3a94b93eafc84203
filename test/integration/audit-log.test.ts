/**
 * The audit log (docs/audit-log.md), end to end: every operation the spec audits (`x-audit`, AUDITED_OPERATIONS) is
 * called once, successfully, through the API, and must leave exactly one audit event saying who (the key, or the
 * operator), what, which resource, from where and in which request; a replayed idempotent request and a failed one
 * leave none; another tenant sees none of them; the operator sees every tenant's; pages follow the cursor; no real
 * number and no secret ever appears in an event or a log line. The log is append-only: the SQL audit
 * (test/support/sql-audit-setup.ts) fails any file whose server statements update it or delete from it outside the
 * retention purge, and a static check below keeps every statement on the table in one store module.
 *
 * The carrier is the simulator's: its REST side places calls and keeps recordings (test/sim/vobiz-rest-server.ts),
 * its webhook side makes the recorded call that recordings.delete needs.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Maskline } from "@maskline/sdk";
import { AUDITED_OPERATIONS } from "../../openapi/generated/constants.js";
import { startTestServer, type TestServer } from "../support/harness.js";
import { expectNoRealNumbers } from "../support/privacy.js";
import { expectNotListed, problemOf } from "../support/isolation.js";
import { AUTH_TOKEN, createSession, people, tenantWithPool, uniqueDids, type Schemas, type TenantFixture } from "../support/fixtures.js";
import { appendOnlyViolations, loadSqlParser } from "../support/sql-audit.js";
import { allowedOnAppendOnly } from "../support/sql-audit-allowlist.js";
import { VobizRestServer } from "../sim/vobiz-rest-server.js";
import { VobizSimulator } from "../sim/vobiz-simulator.js";
import { purgeExpiredData } from "../../server/src/jobs/sweeper.js";
import { loadConfig } from "../../server/src/config.js";

type AuditEvent = Schemas["AuditEvent"];
type AuditedOperation = keyof typeof AUDITED_OPERATIONS;

const ACCOUNT = { authId: "MA_TEST", authToken: AUTH_TOKEN };
const DAY_MS = 86_400_000;
const REPO = new URL("../../", import.meta.url).pathname;

let server: TestServer;
let rest: VobizRestServer;
/** Every real number this file gave the API, and every secret it was shown: none may appear in an event or a log. */
const realNumbersSeen: string[] = [];
const secretsSeen: string[] = [AUTH_TOKEN];

beforeAll(async () => {
  await loadSqlParser();
  rest = await VobizRestServer.start({ accounts: [ACCOUNT] });
  server = await startTestServer({ env: { VOBIZ_API_BASE_URL: rest.baseUrl, MASKLINE_WEBHOOK_ALLOW_PRIVATE: "true" } });
});
afterAll(async () => {
  try {
    if (server) {
      const logs = server.logs.join("");
      expectNoRealNumbers(logs, realNumbersSeen);
      for (const secret of secretsSeen) expect(logs.includes(secret), `a log line holds a secret (${secret.slice(0, 8)}…)`).toBe(false);
    }
  } finally {
    await server?.stop();
    await rest?.close();
  }
});

const admin = () => ({ authorization: `Bearer ${server.adminToken}` });

/** The body, after checking the status. */
async function json<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return JSON.parse(text) as T;
}

interface Tenant extends TenantFixture {
  /** The id of the key `apiKey` is the secret of: the actor of everything this tenant does. */
  apiKeyId: string;
}

/** A tenant with an app and a pool, made through the API, and the id of its key. */
async function tenant(): Promise<Tenant> {
  const t = await tenantWithPool(server);
  secretsSeen.push(t.apiKey);
  const keys = await json<{ data: Array<{ id: string }> }>(await server.request("/v1/api-keys", { apiKey: t.apiKey }), 200);
  expect(keys.data).toHaveLength(1);
  return { ...t, apiKeyId: keys.data[0]!.id };
}

async function openSession(t: Tenant, body: Record<string, unknown> = {}) {
  const [a, b] = people(2) as [string, string];
  realNumbersSeen.push(a, b);
  const session = await json<Schemas["Session"]>(await createSession(server, t.apiKey, { participants: [{ number: a }, { number: b }], ...body }), 201);
  return { session, a, b };
}

/** Every audit event a list URL gives, walking its pages. */
async function allPages(path: string, auth: { apiKey: string } | { headers: Record<string, string> }, limit = 100): Promise<AuditEvent[]> {
  const out: AuditEvent[] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const url = `${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const page: { data: AuditEvent[]; nextCursor: string | null } = await json(await server.request(url, auth), 200);
    out.push(...page.data);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

const tenantEvents = (t: { apiKey: string }, query = "") => allPages(`/v1/audit-events${query}`, { apiKey: t.apiKey });
const operatorEvents = (query = "") => allPages(`/v1/admin/audit-events${query}`, { headers: admin() });

// ---------------------------------------------------------------------------------------------------------------------
// The walk: one successful call of every audited operation.

/** What one step did, and what its audit event must say. */
interface Performed {
  res: Response;
  status: number;
  resourceId: string | null;
  /** The tenant the event belongs to (default: the walk's tenant). */
  tenantId?: string;
  /** The operator acted (default: the walk tenant's key). */
  operator?: true;
  /** A key of the event's tenant, which must see the event in its own list (default: the walk tenant's). */
  viewer?: { apiKey: string };
  /** The web console session the change was made in (default: none, made with the key itself). */
  consoleSessionId?: string;
}

type Step = (t: Tenant) => Promise<Performed>;

const post = (t: { apiKey: string }, path: string, json?: unknown, headers: Record<string, string> = {}) =>
  server.request(path, { method: "POST", apiKey: t.apiKey, headers, ...(json === undefined ? {} : { json }) });
const patch = (t: { apiKey: string }, path: string, json: unknown) => server.request(path, { method: "PATCH", apiKey: t.apiKey, json });
const del = (t: { apiKey: string }, path: string) => server.request(path, { method: "DELETE", apiKey: t.apiKey });

/** Reads a 2xx body for the step's expectations, leaving the Response's request id readable. */
async function bodyOf<T>(res: Response, status: number): Promise<T> {
  return json<T>(res.clone(), status);
}

async function newEndpoint(t: Tenant): Promise<Schemas["WebhookEndpointWithSecret"]> {
  const endpoint = await json<Schemas["WebhookEndpointWithSecret"]>(
    await post(t, "/v1/webhook-endpoints", { url: "http://127.0.0.1:9/never-called", events: ["pool.exhausted"] }),
    201,
  );
  secretsSeen.push(endpoint.secret);
  return endpoint;
}

/** A call the carrier recorded: a recorded session, its first participant dials, the carrier posts the recording. */
async function recording(t: Tenant): Promise<Schemas["Recording"]> {
  const { session, a } = await openSession(t, { recording: true });
  const carrier = new VobizSimulator({ authToken: AUTH_TOKEN, answerUrl: t.app.answerUrl, hangupUrl: t.app.hangupUrl });
  const call = await carrier.placeCall({ from: a, to: session.participants[0]!.proxyNumber });
  expect(call.status).toBe(200);
  const callback = await carrier.postRecording(call, rest, { durationMs: 3_000 });
  expect(callback.status).toBe(200);
  const calls = await json<{ data: Schemas["Call"][] }>(await server.request(`/v1/calls?sessionId=${session.id}`, { apiKey: t.apiKey }), 200);
  const callId = calls.data.find((c) => c.callUuid === call.callUuid)!.id;
  const list = await json<{ data: Schemas["Recording"][] }>(await server.request(`/v1/recordings?callId=${callId}`, { apiKey: t.apiKey }), 200);
  expect(list.data).toHaveLength(1);
  return list.data[0]!;
}

/** An erasure or export request for a person: 202 with the request's own id. */
async function personRequest(t: Tenant, path: string): Promise<Performed> {
  const [person] = people(1) as [string];
  realNumbersSeen.push(person);
  const res = await post(t, path, { number: person });
  return { res, status: 202, resourceId: (await bodyOf<{ id: string }>(res, 202)).id };
}

/**
 * One line per audited operation: make what it needs through the API, then call it once. The resource id each must
 * record is the rule of server/src/http/audit.ts (the returned resource's id, else the path's; the exceptions:
 * admin.tenants.create → the created tenant, numbers.create → the pool's name, settings.update → none).
 */
const WALK: Partial<Record<AuditedOperation, Step>> = {
  "admin.tenants.create": async () => {
    const res = await server.request("/v1/admin/tenants", { method: "POST", headers: admin(), json: { name: "Audited" } });
    const body = await bodyOf<Schemas["CreateTenantResponse"]>(res, 201);
    secretsSeen.push(body.apiKey.secret);
    return { res, status: 201, resourceId: body.tenant.id, tenantId: body.tenant.id, operator: true, viewer: { apiKey: body.apiKey.secret } };
  },
  "admin.apiKeys.create": async (t) => {
    const res = await server.request(`/v1/admin/tenants/${t.tenantId}/api-keys`, { method: "POST", headers: admin(), json: { name: "ops" } });
    const body = await bodyOf<Schemas["ApiKeyWithSecret"]>(res, 201);
    secretsSeen.push(body.secret);
    return { res, status: 201, resourceId: body.id, operator: true };
  },
  "admin.apiKeys.delete": async (t) => {
    const key = await json<Schemas["ApiKeyWithSecret"]>(await post(t, "/v1/api-keys", { name: "leaked" }), 201);
    secretsSeen.push(key.secret);
    const res = await server.request(`/v1/admin/tenants/${t.tenantId}/api-keys/${key.id}`, { method: "DELETE", headers: admin() });
    return { res, status: 204, resourceId: key.id, operator: true };
  },
  "apiKeys.create": async (t) => {
    const res = await post(t, "/v1/api-keys", { name: "ci" });
    const body = await bodyOf<Schemas["ApiKeyWithSecret"]>(res, 201);
    secretsSeen.push(body.secret);
    return { res, status: 201, resourceId: body.id };
  },
  "apiKeys.delete": async (t) => {
    const key = await json<Schemas["ApiKeyWithSecret"]>(await post(t, "/v1/api-keys", { name: "to revoke" }), 201);
    secretsSeen.push(key.secret);
    return { res: await del(t, `/v1/api-keys/${key.id}`), status: 204, resourceId: key.id };
  },
  "apps.create": async (t) => {
    const res = await post(t, "/v1/apps", { name: "Second app", vobizAuthId: "MA_TEST", vobizAuthToken: AUTH_TOKEN });
    return { res, status: 201, resourceId: (await bodyOf<Schemas["App"]>(res, 201)).id };
  },
  "apps.update": async (t) => ({ res: await patch(t, `/v1/apps/${t.app.id}`, { name: "Renamed", vobizAuthToken: AUTH_TOKEN }), status: 200, resourceId: t.app.id }),
  "settings.update": async (t) => ({ res: await patch(t, "/v1/settings", { retentionDays: 30 }), status: 200, resourceId: null }),
  "numbers.create": async (t) => {
    const res = await post(t, "/v1/numbers", { appId: t.app.id, numbers: uniqueDids(2), pool: "audited-pool" });
    return { res, status: 201, resourceId: "audited-pool" };
  },
  "numbers.delete": async (t) => {
    const imported = await json<Schemas["NumberImportResult"]>(await post(t, "/v1/numbers", { appId: t.app.id, numbers: uniqueDids(1), pool: "spare" }), 201);
    const id = imported.data[0]!.id;
    return { res: await del(t, `/v1/numbers/${id}`), status: 204, resourceId: id };
  },
  "sessions.create": async (t) => {
    const [a, b] = people(2) as [string, string];
    realNumbersSeen.push(a, b);
    const res = await createSession(server, t.apiKey, { participants: [{ number: a }, { number: b }], metadata: { order: "A-1" } });
    return { res, status: 201, resourceId: (await bodyOf<Schemas["Session"]>(res, 201)).id };
  },
  "sessions.update": async (t) => {
    const { session } = await openSession(t);
    return { res: await patch(t, `/v1/sessions/${session.id}`, { ttlSeconds: 600 }), status: 200, resourceId: session.id };
  },
  "sessions.close": async (t) => {
    const { session } = await openSession(t);
    return { res: await post(t, `/v1/sessions/${session.id}/close`), status: 200, resourceId: session.id };
  },
  "sessions.placeCall": async (t) => {
    const { session } = await openSession(t);
    const res = await post(t, `/v1/sessions/${session.id}/calls`, { participantId: session.participants[0]!.id });
    // The resource is the call placed (the path names its session).
    return { res, status: 202, resourceId: (await bodyOf<Schemas["Call"]>(res, 202)).id };
  },
  "recordings.delete": async (t) => {
    const rec = await recording(t);
    return { res: await del(t, `/v1/recordings/${rec.id}`), status: 204, resourceId: rec.id };
  },
  // The body names a person's number: the event must hold the erasure's (export's) id, never the number.
  "erasures.create": async (t) => personRequest(t, "/v1/erasures"),
  "exports.create": async (t) => personRequest(t, "/v1/exports"),
  "webhookEndpoints.create": async (t) => {
    const res = await post(t, "/v1/webhook-endpoints", { url: "http://127.0.0.1:9/audited", events: ["session.closed"] });
    const body = await bodyOf<Schemas["WebhookEndpointWithSecret"]>(res, 201);
    secretsSeen.push(body.secret);
    return { res, status: 201, resourceId: body.id };
  },
  "webhookEndpoints.update": async (t) => {
    const endpoint = await newEndpoint(t);
    return { res: await patch(t, `/v1/webhook-endpoints/${endpoint.id}`, { description: "audited" }), status: 200, resourceId: endpoint.id };
  },
  "webhookEndpoints.delete": async (t) => {
    const endpoint = await newEndpoint(t);
    return { res: await del(t, `/v1/webhook-endpoints/${endpoint.id}`), status: 204, resourceId: endpoint.id };
  },
  "webhookEndpoints.rotateSecret": async (t) => {
    const endpoint = await newEndpoint(t);
    const res = await post(t, `/v1/webhook-endpoints/${endpoint.id}/rotate-secret`);
    secretsSeen.push((await bodyOf<Schemas["WebhookEndpointSecret"]>(res, 200)).secret);
    return { res, status: 200, resourceId: endpoint.id };
  },
  "events.redeliver": async (t) => {
    const { session } = await openSession(t);
    const events = await json<{ data: Array<{ id: string; type: string; data: { id?: string } }> }>(
      await server.request("/v1/events?type=session.created", { apiKey: t.apiKey }),
      200,
    );
    const event = events.data.find((e) => e.data.id === session.id)!;
    return { res: await post(t, `/v1/events/${event.id}/redeliver`), status: 202, resourceId: event.id };
  },
  // The console's sign-in is the session's first act: its resource and its actor's console session are the session.
  "console.signIn": async (t) => {
    const res = await server.request("/v1/console/session", { method: "POST", json: { credential: t.apiKey } });
    const id = (await bodyOf<Schemas["ConsoleSession"]>(res, 201)).id;
    return { res, status: 201, resourceId: id, consoleSessionId: id };
  },
  "console.signOut": async (t) => {
    const signIn = await server.request("/v1/console/session", { method: "POST", json: { credential: t.apiKey } });
    const session = await json<Schemas["ConsoleSession"]>(signIn, 201);
    const cookie = signIn.headers.get("set-cookie")!.split(";")[0]!;
    const res = await server.request("/v1/console/session", { method: "DELETE", headers: { cookie, "x-csrf-token": session.csrfToken } });
    return { res, status: 204, resourceId: session.id, consoleSessionId: session.id };
  },
};

/**
 * Audited operations whose routes are still being built: each is named here until its WALK line exists, and reported
 * as a todo below meanwhile, never silently passed. Empty now: erasures.create and exports.create have their lines.
 */
const NOT_YET_WALKED: ReadonlySet<string> = new Set<string>([]);

/** The events of `tenantId` made by the request `requestId`, as the operator sees them. */
async function eventsOfRequest(tenantId: string, requestId: string): Promise<AuditEvent[]> {
  const events = await operatorEvents(`?tenantId=${tenantId}`);
  return events.filter((e) => e.requestId === requestId);
}

describe("every audited operation writes one audit event", () => {
  let t: Tenant;
  beforeAll(async () => {
    t = await tenant();
  });

  it("walks every operation the spec audits, and only those", () => {
    const audited = Object.keys(AUDITED_OPERATIONS);
    expect(audited.length).toBeGreaterThan(15);
    const unwalked = audited.filter((op) => !(op in WALK) && !NOT_YET_WALKED.has(op));
    expect(unwalked, "audited operations this walk neither covers nor names: add a WALK line each").toEqual([]);
    expect(Object.keys(WALK).filter((op) => !audited.includes(op)), "WALK lines for operations the spec no longer audits").toEqual([]);
  });

  for (const op of Object.keys(AUDITED_OPERATIONS) as AuditedOperation[]) {
    const step = WALK[op];
    if (!step) {
      it.todo(`${op}: walk it once its route exists (NOT_YET_WALKED)`);
      continue;
    }
    it(`${op} → ${AUDITED_OPERATIONS[op].action}`, async () => {
      const done = await step(t);
      expect(done.res.status, await done.res.clone().text()).toBe(done.status);
      const requestId = done.res.headers.get("x-request-id")!;
      expect(requestId).toMatch(/^req_/);
      const tenantId = done.tenantId ?? t.tenantId;
      const events = await eventsOfRequest(tenantId, requestId);
      expect(events, `${op}: exactly one audit event`).toHaveLength(1);
      const event = events[0]!;
      expect(event).toEqual({
        id: expect.stringMatching(/^aud_/),
        tenantId,
        actor: {
          ...(done.operator ? { type: "operator", apiKeyId: null } : { type: "api_key", apiKeyId: t.apiKeyId }),
          consoleSessionId: done.consoleSessionId ?? null,
        },
        action: AUDITED_OPERATIONS[op].action,
        resourceType: AUDITED_OPERATIONS[op].resource,
        resourceId: done.resourceId,
        ip: "127.0.0.1",
        requestId,
        createdAt: expect.any(String),
      });
      expect(Math.abs(Date.parse(event.createdAt) - Date.now())).toBeLessThan(60_000);
      // The tenant sees the same event in its own list, the operator's changes to it included.
      const own = await tenantEvents(done.viewer ?? t, `?action=${AUDITED_OPERATIONS[op].action}`);
      expect(own.filter((e) => e.requestId === requestId)).toEqual([event]);
    });
  }

  it("recorded no real number and no secret in any of the walk's events", async () => {
    const text = JSON.stringify(await tenantEvents(t)) + JSON.stringify(await operatorEvents(`?tenantId=${t.tenantId}`));
    expect(text).toContain("aud_");
    expectNoRealNumbers(text, [...realNumbersSeen, ...t.dids]);
    for (const secret of secretsSeen) expect(text.includes(secret), `an audit event holds a secret (${secret.slice(0, 8)}…)`).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------------------------------

describe("what is not recorded", () => {
  it("an idempotent replay adds no event: one change, one row", async () => {
    const t = await tenant();
    const [a, b] = people(2) as [string, string];
    realNumbersSeen.push(a, b);
    const headers = { "idempotency-key": `audit-${randomUUID()}` };
    const body = { participants: [{ number: a }, { number: b }] };
    const first = await createSession(server, t.apiKey, body, headers);
    const session = await json<Schemas["Session"]>(first.clone(), 201);
    const replay = await createSession(server, t.apiKey, body, headers);
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect((await json<Schemas["Session"]>(replay, 201)).id).toBe(session.id);

    const events = await tenantEvents(t, `?resourceId=${session.id}`);
    expect(events.map((e) => [e.action, e.requestId])).toEqual([["session.created", first.headers.get("x-request-id")]]);
    expect(await eventsOfRequest(t.tenantId, replay.headers.get("x-request-id")!)).toEqual([]);
  });

  it("a failed request (4xx), the tenant's or the operator's, adds no event", async () => {
    const t = await tenant();
    const before = (await tenantEvents(t)).map((e) => e.id);
    const failures = [
      await patch(t, "/v1/apps/app_unknown", { name: "x" }),
      await del(t, "/v1/api-keys/key_unknown"),
      await post(t, "/v1/sessions", { participants: [] }),
      await patch(t, "/v1/settings", { retentionDays: 0 }),
      await server.request(`/v1/admin/tenants/${t.tenantId}/api-keys`, { method: "POST", headers: admin(), json: { nom: "x" } }),
      await server.request("/v1/admin/tenants/ten_unknown/api-keys", { method: "POST", headers: admin(), json: {} }),
      await server.request("/v1/api-keys", { method: "POST", headers: { authorization: "Bearer mk_live_wrong" }, json: {} }),
    ];
    for (const res of failures) {
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      await problemOf(res);
    }
    expect((await tenantEvents(t)).map((e) => e.id)).toEqual(before);
    const requestIds = new Set(failures.map((r) => r.headers.get("x-request-id")));
    expect((await operatorEvents(`?tenantId=${t.tenantId}`)).filter((e) => requestIds.has(e.requestId))).toEqual([]);
    // The same requests done right are recorded: it was the failure, not the route, that wrote nothing.
    expect((await patch(t, "/v1/settings", { retentionDays: 60 })).status).toBe(200);
    expect((await tenantEvents(t)).map((e) => e.action).slice(0, 1)).toEqual(["settings.updated"]);
    expect((await tenantEvents(t)).length).toBe(before.length + 1);
  });

  it("a write that fails is logged with the operation and request id, and the client still gets its answer", async () => {
    const t = await tenant();
    const requestId = `audit-fail-${randomUUID()}`;
    // A trigger that refuses this one request's row (any other request, of any test file, is untouched).
    const fn = `audit_refuse_${randomUUID().replaceAll("-", "")}`;
    await server.deps.db.raw(`CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$`);
    await server.deps.db.raw(`CREATE TRIGGER ${fn} BEFORE INSERT ON audit_events FOR EACH ROW WHEN (NEW.request_id = '${requestId}') EXECUTE FUNCTION ${fn}()`);
    try {
      const res = await server.request("/v1/settings", { method: "PATCH", apiKey: t.apiKey, headers: { "x-request-id": requestId }, json: { retentionDays: 45 } });
      expect(await json(res, 200)).toMatchObject({ retentionDays: 45 });
    } finally {
      await server.deps.db.raw(`DROP TRIGGER ${fn} ON audit_events`);
      await server.deps.db.raw(`DROP FUNCTION ${fn}()`);
    }
    const line = server.logs.find((l) => l.includes(requestId) && l.includes("audit event not written"));
    expect(line).toBeDefined();
    expect(JSON.parse(line!)).toMatchObject({ level: 50, operation: "settings.update", requestId });
    expect(line).not.toContain("retentionDays");
    expect(await eventsOfRequest(t.tenantId, requestId)).toEqual([]);
  });

  it("keeps a phone-shaped X-Request-Id masked in the event", async () => {
    const t = await tenant();
    const phoneShaped = people(1)[0]!.slice(1);
    realNumbersSeen.push(`+${phoneShaped}`);
    const res = await server.request("/v1/settings", { method: "PATCH", apiKey: t.apiKey, headers: { "x-request-id": phoneShaped }, json: { pinLength: 5 } });
    expect(res.status).toBe(200);
    const [event] = await tenantEvents(t, "?action=settings.updated");
    expect(event!.requestId).toMatch(/^\*+\d{4}$/);
    expect(event!.requestId.slice(-4)).toBe(phoneShaped.slice(-4));
  });
});

// ---------------------------------------------------------------------------------------------------------------------

describe("who sees what", () => {
  let owner: Tenant;
  let other: Tenant;
  let ownerSession: string;
  beforeAll(async () => {
    owner = await tenant();
    other = await tenant();
    ownerSession = (await openSession(owner)).session.id;
    await openSession(other);
  });

  it("a tenant lists only its own events, newest first, and filters them by action and resource", async () => {
    const events = await tenantEvents(owner);
    expect(events.length).toBeGreaterThanOrEqual(3); // the app, the numbers, the session
    expect(new Set(events.map((e) => e.tenantId))).toEqual(new Set([owner.tenantId]));
    const ids = events.map((e) => e.id);
    expect(ids).toEqual([...ids].sort().reverse());
    expect(events.map((e) => e.action)).toEqual(expect.arrayContaining(["app.created", "numbers.imported", "session.created"]));

    const created = await tenantEvents(owner, "?action=session.created");
    expect(created.map((e) => e.resourceId)).toEqual([ownerSession]);
    const bySession = await tenantEvents(owner, `?resourceId=${ownerSession}`);
    expect(bySession.map((e) => e.action)).toEqual(["session.created"]);
    expect(await tenantEvents(owner, "?action=nothing.happened")).toEqual([]);
  });

  it("another tenant sees none of them: not listed, not by action, not by resource id", async () => {
    const ownerIds = (await tenantEvents(owner)).map((e) => e.id);
    await expectNotListed(server, other.apiKey, "/v1/audit-events", ownerIds);
    await expectNotListed(server, other.apiKey, "/v1/audit-events?limit=100", ownerIds);
    await expectNotListed(server, other.apiKey, "/v1/audit-events?action=session.created", ownerIds);
    expect(await tenantEvents(other, `?resourceId=${ownerSession}`)).toEqual([]);
    expect(await tenantEvents(other, `?resourceId=${owner.app.id}`)).toEqual([]);
    const seen = await tenantEvents(other);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((e) => e.tenantId === other.tenantId)).toBe(true);
  });

  it("the operator sees every tenant's events, and one tenant's with tenantId", async () => {
    const mine = [(await tenantEvents(owner))[0]!.id, (await tenantEvents(other))[0]!.id];
    // Newest first across tenants: both are recent, so a bounded walk finds them even on a busy shared database.
    const found = new Set<string>();
    let cursor: string | null = null;
    for (let page = 0; page < 50 && found.size < 2; page++) {
      const url: string = `/v1/admin/audit-events?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      const body: { data: AuditEvent[]; nextCursor: string | null } = await json(await server.request(url, { headers: admin() }), 200);
      const ids = body.data.map((e) => e.id);
      expect(ids).toEqual([...ids].sort().reverse());
      for (const id of ids) if (mine.includes(id)) found.add(id);
      cursor = body.nextCursor;
      if (!cursor) break;
    }
    expect([...found].sort()).toEqual([...mine].sort());

    const ownerOnly = await operatorEvents(`?tenantId=${owner.tenantId}`);
    expect(ownerOnly.map((e) => e.id)).toEqual((await tenantEvents(owner)).map((e) => e.id));
    const otherCreated = await operatorEvents(`?tenantId=${other.tenantId}&action=session.created`);
    expect(otherCreated.length).toBe(1);
    expect(otherCreated[0]!.tenantId).toBe(other.tenantId);
    expect(await operatorEvents("?tenantId=ten_unknown")).toEqual([]);
  });

  it("each view wants its own credential", async () => {
    expect((await server.request("/v1/audit-events", { headers: admin() })).status).toBe(401);
    expect((await server.request("/v1/admin/audit-events", { apiKey: owner.apiKey })).status).toBe(401);
    expect((await server.request("/v1/audit-events")).status).toBe(401);
  });

  it("pages by cursor: every event once, in order, filters kept across pages; a foreign cursor is a 422", async () => {
    for (let i = 0; i < 4; i++) await patch(owner, "/v1/settings", { retentionDays: 40 + i });
    const whole = (await tenantEvents(owner)).map((e) => e.id);
    expect(whole.length).toBeGreaterThanOrEqual(7);
    const paged = (await allPages("/v1/audit-events", { apiKey: owner.apiKey }, 2)).map((e) => e.id);
    expect(paged).toEqual(whole);
    const settings = (await allPages("/v1/audit-events?action=settings.updated", { apiKey: owner.apiKey }, 3)).map((e) => e.action);
    expect(settings).toEqual(["settings.updated", "settings.updated", "settings.updated", "settings.updated"]);
    const operatorPaged = (await allPages(`/v1/admin/audit-events?tenantId=${owner.tenantId}`, { headers: admin() }, 3)).map((e) => e.id);
    expect(operatorPaged).toEqual(whole);

    const bad = await server.request("/v1/audit-events?cursor=not-ours", { apiKey: owner.apiKey });
    expect(bad.status).toBe(422);
    expect(await problemOf(bad)).toMatchObject({ code: "validation_failed" });
    const badFilter = await server.request(`/v1/audit-events?action=${"x".repeat(65)}`, { apiKey: owner.apiKey });
    expect(badFilter.status).toBe(422);
  });

  it("the SDK lists both views, with their filters", async () => {
    const sdk = new Maskline({ apiKey: owner.apiKey, baseUrl: server.baseUrl, maxRetries: 0 });
    const page = await sdk.auditEvents.list({ action: "session.created" });
    expect(page.data.map((e) => e.resourceId)).toEqual([ownerSession]);
    const seen: string[] = [];
    for await (const event of sdk.auditEvents.list({ resourceId: ownerSession, limit: 1 })) seen.push(event.action);
    expect(seen).toEqual(["session.created"]);

    const operator = new Maskline({ adminToken: server.adminToken, baseUrl: server.baseUrl, maxRetries: 0 });
    const ops = await operator.admin.auditEvents.list({ tenantId: other.tenantId, action: "session.created" });
    expect(ops.data.map((e) => e.tenantId)).toEqual([other.tenantId]);
  });
});

// ---------------------------------------------------------------------------------------------------------------------

describe("append-only, kept for its own retention", () => {
  it("is purged past MASKLINE_AUDIT_RETENTION_DAYS by the retention purge, and only then", async () => {
    const t = await tenant();
    expect(server.deps.config.auditRetentionDays).toBe(730);
    const now = Date.now();
    const row = (id: string, ageDays: number) => ({
      tenant_id: t.tenantId,
      id,
      actor_type: "api_key",
      api_key_id: t.apiKeyId,
      action: "settings.updated",
      resource_type: "settings",
      resource_id: null,
      ip: "127.0.0.1",
      request_id: `req_${randomUUID()}`,
      created_at: new Date(now - ageDays * DAY_MS),
    });
    // Written straight to the table (a test's own statement): the API only ever records the present.
    await server.deps.db("audit_events").insert([row("aud_00000000000000000000OLD1", 731), row("aud_00000000000000000000KEPT", 729)]);
    const purged = await purgeExpiredData(server.deps);
    expect(purged.auditEvents).toBeGreaterThanOrEqual(1);
    const left = await server.deps.db("audit_events").where({ tenant_id: t.tenantId }).select("id");
    const ids = left.map((r: { id: string }) => r.id);
    expect(ids).toContain("aud_00000000000000000000KEPT");
    expect(ids).not.toContain("aud_00000000000000000000OLD1");
    // The tenant's own data retention, however short, does not touch the audit log.
    await patch(t, "/v1/settings", { retentionDays: 1 });
    await purgeExpiredData(server.deps);
    expect((await tenantEvents(t)).map((e) => e.id)).toContain("aud_00000000000000000000KEPT");
  });

  it("reads MASKLINE_AUDIT_RETENTION_DAYS: default 730, at least 1", () => {
    expect(loadConfig({}).auditRetentionDays).toBe(730);
    expect(loadConfig({ MASKLINE_AUDIT_RETENTION_DAYS: "3650" }).auditRetentionDays).toBe(3650);
    expect(() => loadConfig({ MASKLINE_AUDIT_RETENTION_DAYS: "0" })).toThrow(/MASKLINE_AUDIT_RETENTION_DAYS/);
    expect(() => loadConfig({ MASKLINE_AUDIT_RETENTION_DAYS: "soon" })).toThrow(/MASKLINE_AUDIT_RETENTION_DAYS/);
  });

  it("the SQL audit refuses any UPDATE of audit_events, and any DELETE but the purge's", () => {
    const purge = "server/src/stores/audit.ts#purgeAuditEventsPastRetention";
    const verdict = (sql: string, frame: string) => appendOnlyViolations(sql).filter((v) => !allowedOnAppendOnly(frame, v)).map((v) => v.write);
    expect(verdict(`update "audit_events" set "action" = $1 where "tenant_id" = $2 and "id" = $3`, purge)).toEqual(["update"]);
    expect(verdict(`delete from "audit_events" where "tenant_id" = $1 and "id" = $2`, "server/src/stores/audit.ts#insertAuditEvent")).toEqual(["delete"]);
    expect(verdict(`WITH gone AS (DELETE FROM audit_events WHERE tenant_id = $1 RETURNING id) SELECT count(*) FROM gone`, "server/src/services/x.ts#y")).toEqual(["delete"]);
    expect(verdict(`INSERT INTO audit_events (tenant_id, id) VALUES ($1, $2) ON CONFLICT (tenant_id, id) DO UPDATE SET action = 'x'`, purge)).toEqual(["update"]);
    expect(verdict(`TRUNCATE audit_events`, purge)).toEqual(["truncate"]);
    // What the service sends: its insert, its reads, and the purge's delete from the purge.
    expect(verdict(`insert into "audit_events" ("action", "id", "tenant_id") values ($1, $2, $3)`, "server/src/stores/audit.ts#insertAuditEvent")).toEqual([]);
    expect(verdict(`INSERT INTO audit_events (tenant_id, id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, "server/src/stores/audit.ts#insertAuditEvent")).toEqual([]);
    expect(verdict(`select * from "audit_events" where "tenant_id" = $1 order by "id" desc limit $2`, "x#y")).toEqual([]);
    expect(verdict(`DELETE FROM audit_events WHERE (tenant_id, id) IN (SELECT tenant_id, id FROM audit_events WHERE created_at < $1 LIMIT $2)`, purge)).toEqual([]);
  });

  it("names audit_events in one store module only, which has no UPDATE and one DELETE, the purge's", () => {
    const files = (dir: string): string[] =>
      readdirSync(join(REPO, dir), { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
      );
    const naming = [...files("server/src"), ...files("migrations")].filter((f) => /\baudit_events\b/.test(readFileSync(join(REPO, f), "utf8")));
    // 016 adds a column (console_session_id) and changes no row.
    expect(naming.sort()).toEqual(["migrations/015_audit_log.ts", "migrations/016_console.ts", "server/src/stores/audit.ts"]);
    expect(readFileSync(join(REPO, "migrations/016_console.ts"), "utf8")).not.toMatch(/\b(UPDATE|DELETE FROM|TRUNCATE)\b[^\n]*audit_events/i);
    const store = readFileSync(join(REPO, "server/src/stores/audit.ts"), "utf8");
    const code = store.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "");
    expect(code).not.toMatch(/\bupdate\b|\.del\(|\.delete\(|\btruncate\b|\bmerge\b|onConflict/i);
    expect(code.match(/\bDELETE\b/gi)).toHaveLength(1);
    const purgeFn = code.slice(code.indexOf("export async function purgeAuditEventsPastRetention"));
    expect(purgeFn).toMatch(/^export async function purgeAuditEventsPastRetention[\s\S]*DELETE FROM audit_events/);
  });
});
