/**
 * The events API (docs/events.md): what is recorded, exactly once, for each change worth telling, with the API's own
 * resource as its data; never a real number; never another tenant's. Delivery is webhook-deliveries.test.ts's.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/harness.js";
import { createTestClock } from "../support/clock.js";
import { expectNoRealNumbers } from "../support/privacy.js";
import { expectInvisibleToOtherTenant, expectNotListed, problemOf } from "../support/isolation.js";
import { AUTH_TOKEN, createSession, people, tenantWithPool, type Schemas, type TenantFixture } from "../support/fixtures.js";
import { VobizSimulator } from "../sim/vobiz-simulator.js";
import { expireSessions } from "../../server/src/jobs/sweeper.js";

type Session = Schemas["Session"];
type Call = Schemas["Call"];
type Event = { id: string; type: Schemas["EventType"]; createdAt: string; data: Record<string, unknown> };
type EventList = { data: Event[]; nextCursor: string | null };

let server: TestServer;
const clock = createTestClock();
const realNumbersSeen: string[] = [];
/** Every tenant this file made, for the privacy sweep over all their events. */
const apiKeys: string[] = [];

beforeAll(async () => {
  // Private endpoints allowed only so the isolation test can register one; nothing here delivers.
  server = await startTestServer({ clock, env: { MASKLINE_WEBHOOK_ALLOW_PRIVATE: "true" } });
});
afterAll(async () => {
  await server?.stop();
});

/** Runs `work` with the server's clock `ms` in the past: what it creates has lapsed once the clock is back. */
async function inThePast<T>(ms: number, work: () => Promise<T>): Promise<T> {
  clock.shift(-ms);
  try {
    return await work();
  } finally {
    clock.reset();
  }
}

async function tenant(opts: Parameters<typeof tenantWithPool>[1] = {}): Promise<TenantFixture> {
  const t = await tenantWithPool(server, opts);
  apiKeys.push(t.apiKey);
  return t;
}

async function json<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return JSON.parse(text) as T;
}

async function open(t: TenantFixture, body: Record<string, unknown> = {}, [a, b] = people(2)): Promise<Session> {
  realNumbersSeen.push(a!, b!);
  return json<Session>(await createSession(server, t.apiKey, { participants: [{ number: a }, { number: b }], ...body }), 201);
}

const close = async (t: TenantFixture, id: string) =>
  json<Session>(await server.request(`/v1/sessions/${id}/close`, { method: "POST", apiKey: t.apiKey }), 200);

/** Every event of the tenant (optionally of one type), newest first, walking the pages. */
async function allEvents(apiKey: string, type?: string): Promise<Event[]> {
  const out: Event[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ limit: "100" });
    if (type) query.set("type", type);
    if (cursor) query.set("cursor", cursor);
    const page: EventList = await json<EventList>(await server.request(`/v1/events?${query}`, { apiKey }), 200);
    out.push(...page.data);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

const ofSession = (events: Event[], sessionId: string) => events.filter((e) => (e.data as { id?: string }).id === sessionId);
const count = (events: Event[], type: string) => events.filter((e) => e.type === type).length;

describe("session events", () => {
  it("records session.created, session.updated and session.closed newest first, each with the API's Session as data", async () => {
    const t = await tenant();
    const created = await open(t, { reference: "order-1" });
    const updated = await json<Session>(
      await server.request(`/v1/sessions/${created.id}`, { method: "PATCH", apiKey: t.apiKey, json: { metadata: { step: "2" } } }),
      200,
    );
    const closed = await close(t, created.id);

    const events = await allEvents(t.apiKey);
    expect(events.map((e) => e.type)).toEqual(["session.closed", "session.updated", "session.created"]);
    expect(events.map((e) => e.data)).toEqual([closed, updated, created]);
    // Newest first by id (ids are time-sortable), and each id an event id.
    expect([...events.map((e) => e.id)].sort().reverse()).toEqual(events.map((e) => e.id));
    for (const e of events) {
      expect(e.id).toMatch(/^evt_/);
      expect(Object.keys(e).sort()).toEqual(["createdAt", "data", "id", "type"]);
      expect(new Date(e.createdAt).toISOString()).toBe(e.createdAt);
    }

    const onlyUpdated = await json<EventList>(await server.request(`/v1/events?type=session.updated`, { apiKey: t.apiKey }), 200);
    expect(onlyUpdated.data).toEqual([events[1]]);
    for (const e of events) expect(await json<Event>(await server.request(`/v1/events/${e.id}`, { apiKey: t.apiKey }), 200)).toEqual(e);
  });

  it("pages events with a cursor and refuses an unknown type", async () => {
    const t = await tenant();
    for (let i = 0; i < 3; i++) await open(t);
    const first = await json<EventList>(await server.request(`/v1/events?limit=2`, { apiKey: t.apiKey }), 200);
    expect(first.data).toHaveLength(2);
    expect(first.nextCursor).not.toBeNull();
    const second = await json<EventList>(await server.request(`/v1/events?limit=2&cursor=${first.nextCursor}`, { apiKey: t.apiKey }), 200);
    expect(second.data).toHaveLength(1);
    expect(second.nextCursor).toBeNull();
    expect(new Set([...first.data, ...second.data].map((e) => e.id)).size).toBe(3);

    const bad = await server.request(`/v1/events?type=session.exploded`, { apiKey: t.apiKey });
    expect(bad.status).toBe(422);
    expect((await problemOf(bad)).code).toBe("validation_failed");
    const missing = await server.request(`/v1/events/evt_01JZZZZZZZZZZZZZZZZZZZZZZZ`, { apiKey: t.apiKey });
    expect(missing.status).toBe(404);
    expect((await server.request(`/v1/events`)).status).toBe(401);
  });

  it("a session closed twice records one session.closed", async () => {
    const t = await tenant();
    const s = await open(t);
    const first = await close(t, s.id);
    const second = await close(t, s.id);
    expect(second).toEqual(first);
    const closedEvents = await allEvents(t.apiKey, "session.closed");
    expect(closedEvents).toHaveLength(1);
    expect(closedEvents[0]!.data).toEqual(first);
  });

  it("a session expired by the sweeper records session.expired once, and closing it afterwards records nothing more", async () => {
    const t = await tenant();
    const s = await inThePast(5_000, () => open(t, { ttlSeconds: 1 }));
    expect(await expireSessions(server.deps)).toBeGreaterThanOrEqual(1);
    const afterSweep = await json<Session>(await server.request(`/v1/sessions/${s.id}`, { apiKey: t.apiKey }), 200);
    expect(afterSweep.status).toBe("expired");

    const closed = await close(t, s.id);
    expect(closed.status).toBe("expired");
    await expireSessions(server.deps);

    const events = ofSession(await allEvents(t.apiKey), s.id);
    expect(events.map((e) => e.type)).toEqual(["session.expired", "session.created"]);
    expect(events[0]!.data).toEqual(afterSweep);
  });

  it("closing a lapsed session the sweeper has not reached records one session.expired and no session.closed; a later sweep adds none", async () => {
    const t = await tenant();
    const s = await inThePast(5_000, () => open(t, { ttlSeconds: 1 }));
    const closed = await close(t, s.id);
    expect(closed.status).toBe("expired");
    await close(t, s.id);
    await expireSessions(server.deps);

    const events = ofSession(await allEvents(t.apiKey), s.id);
    expect(events.map((e) => e.type)).toEqual(["session.expired", "session.created"]);
    expect(events[0]!.data).toEqual(closed);
  });
});

describe("call events", () => {
  const carrier = (t: TenantFixture) =>
    new VobizSimulator({ authToken: AUTH_TOKEN, answerUrl: t.app.answerUrl, hangupUrl: t.app.hangupUrl });
  const callEvents = (events: Event[], callUuid: string) =>
    events.filter((e) => e.type.startsWith("call.") && (e.data as { callUuid?: string }).callUuid === callUuid);

  it("records call.started with the decision, then call.answered and call.completed once each, even when the hangup comes twice", async () => {
    const t = await tenant();
    const [caller, callee] = people(2, 100) as [string, string];
    const s = await open(t, {}, [caller, callee]);
    const sim = carrier(t);
    const call = await sim.placeCall({ from: caller, to: s.participants[0]!.proxyNumber });
    expect(call.kind).toBe("dial");
    const done = await sim.completeCall(call, { dialStatus: "completed", durationSeconds: 30 });
    expect(done.hangup.status).toBe(200);
    // The carrier redelivers a notice it did not see acknowledged: the same notice again.
    const again = await sim.request(done.hangup.url, done.hangup.fields);
    expect(again.status).toBe(200);

    const events = callEvents(await allEvents(t.apiKey), call.callUuid);
    expect(events.map((e) => e.type)).toEqual(["call.completed", "call.answered", "call.started"]);
    const [completed, answered, started] = events as [Event, Event, Event];
    expect(started.data).toMatchObject({ callUuid: call.callUuid, decision: "bridged", sessionId: s.id, answeredAt: null, endedAt: null });
    expect(answered.data).toMatchObject({ decision: "bridged" });
    expect(answered.data.answeredAt).not.toBeNull();
    // The last event says what the call record now says.
    const calls = await json<{ data: Call[] }>(await server.request(`/v1/calls?sessionId=${s.id}`, { apiKey: t.apiKey }), 200);
    expect(calls.data).toHaveLength(1);
    expect(completed.data).toEqual(calls.data[0]);
    expect(completed.data).toMatchObject({ status: "completed", durationSeconds: 30 });
  });

  it("records call.started with a rejection's decision, and its later milestones once each", async () => {
    const t = await tenant();
    const s = await open(t);
    const [stranger] = people(1, 77);
    realNumbersSeen.push(stranger!);
    const sim = carrier(t);
    const call = await sim.placeCall({ from: stranger!, to: s.participants[0]!.proxyNumber });
    expect(call.kind).toBe("reject");
    const done = await sim.completeCall(call);
    expect((await sim.request(done.hangup.url, done.hangup.fields)).status).toBe(200);

    const events = callEvents(await allEvents(t.apiKey), call.callUuid);
    expect(count(events, "call.started")).toBe(1);
    // Refused with a spoken message first, the carrier answers the call to play it; refused bare, it never answers.
    expect(count(events, "call.answered")).toBe(call.hangupFirst === false ? 1 : 0);
    expect(count(events, "call.completed")).toBe(1);
    const started = events.find((e) => e.type === "call.started")!;
    expect(started.data).toMatchObject({ callUuid: call.callUuid, decision: "rejected_unknown_caller", sessionId: null });
  });
});

describe("pool.exhausted", () => {
  it("is recorded once a minute however many creates are refused, and again once the minute has passed", async () => {
    const t = await tenant({ dids: 1 });
    const [driver, ...riders] = people(6, 300);
    realNumbersSeen.push(driver!, ...riders);
    const create = (rider: string) => createSession(server, t.apiKey, { participants: [{ number: driver }, { number: rider }] });
    expect((await create(riders[0]!)).status).toBe(201);
    for (const rider of riders.slice(1, 4)) {
      const refused = await create(rider);
      expect(refused.status).toBe(409);
      expect((await problemOf(refused)).code).toBe("pool_exhausted");
    }
    let exhausted = await allEvents(t.apiKey, "pool.exhausted");
    expect(exhausted).toHaveLength(1);
    expect(exhausted[0]!.data).toEqual({ pool: t.pool, appId: t.app.id });

    clock.shift(61_000);
    try {
      expect((await create(riders[4]!)).status).toBe(409);
      expect((await create(riders[4]!)).status).toBe(409);
    } finally {
      clock.reset();
    }
    exhausted = await allEvents(t.apiKey, "pool.exhausted");
    expect(exhausted).toHaveLength(2);
    expect(Date.parse(exhausted[0]!.createdAt) - Date.parse(exhausted[1]!.createdAt)).toBeGreaterThanOrEqual(60_000);
  });
});

describe("tenant isolation", () => {
  it("another tenant gets 404 from every event and endpoint route, and never sees the owner's in a list", async () => {
    const owner = await tenant();
    const s = await open(owner);
    const [event] = await allEvents(owner.apiKey, "session.created");
    expect((event!.data as Session).id).toBe(s.id);
    // Subscribed to a type this tenant never produces: nothing is ever queued for it.
    const endpoint = await json<Schemas["WebhookEndpointWithSecret"]>(
      await server.request(`/v1/webhook-endpoints`, {
        method: "POST",
        apiKey: owner.apiKey,
        json: { url: "http://127.0.0.1:9/never-called", events: ["pool.exhausted"] },
      }),
      201,
    );
    const intruder = await server.createTenant("Intruder");
    await expectInvisibleToOtherTenant(server, intruder.apiKey, [
      { method: "GET", path: `/v1/events/${event!.id}` },
      { method: "POST", path: `/v1/events/${event!.id}/redeliver` },
      { method: "GET", path: `/v1/webhook-endpoints/${endpoint.id}` },
      { method: "PATCH", path: `/v1/webhook-endpoints/${endpoint.id}`, json: { enabled: false, description: "hijacked" } },
      { method: "POST", path: `/v1/webhook-endpoints/${endpoint.id}/rotate-secret` },
      { method: "GET", path: `/v1/webhook-endpoints/${endpoint.id}/deliveries` },
      { method: "DELETE", path: `/v1/webhook-endpoints/${endpoint.id}` },
    ]);
    await expectNotListed(server, intruder.apiKey, "/v1/events", [event!.id]);
    await expectNotListed(server, intruder.apiKey, "/v1/events?type=session.created", [event!.id]);
    await expectNotListed(server, intruder.apiKey, "/v1/webhook-endpoints", [endpoint.id]);

    // And none of those requests changed anything of the owner's.
    const { secret: _secret, ...shown } = endpoint;
    expect(await json(await server.request(`/v1/webhook-endpoints/${endpoint.id}`, { apiKey: owner.apiKey }), 200)).toEqual(shown);
    const deliveries = await json<{ data: unknown[] }>(
      await server.request(`/v1/webhook-endpoints/${endpoint.id}/deliveries`, { apiKey: owner.apiKey }),
      200,
    );
    expect(deliveries.data).toEqual([]);
  });
});

describe("privacy", () => {
  it("no real phone number appears in any event payload or in the server's logs", async () => {
    expect(apiKeys.length).toBeGreaterThan(5);
    expect(realNumbersSeen.length).toBeGreaterThan(10);
    for (const key of apiKeys) expectNoRealNumbers(JSON.stringify(await allEvents(key)), realNumbersSeen);
    expectNoRealNumbers(server.logs.join(""), realNumbersSeen);
  });
});
