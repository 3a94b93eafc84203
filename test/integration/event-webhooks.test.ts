/**
 * Signed event webhooks end to end: events recorded with their changes, delivered by the job runner to a receiver
 * that checks both signatures with its own code, retried on the contract's schedule (on a test clock), 410
 * disabling the endpoint, private addresses refused, and every route closed to other tenants.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/harness.js";
import { createTestClock } from "../support/clock.js";
import { createSession, people, tenantWithPool, type Schemas, type TenantFixture } from "../support/fixtures.js";
import { expectInvisibleToOtherTenant, expectNotListed } from "../support/isolation.js";
import { expectNoRealNumbers } from "../support/privacy.js";
import { startEventReceiver, verifyV1, verifyV1a, type EventReceiver } from "../support/event-receiver.js";
import { createJobRunner, type JobRunner } from "../../server/src/jobs/runner.js";
import { createJobRegistry } from "../../server/src/jobs/kinds.js";
import { outboxDispatchJob } from "../../server/src/jobs/outbox-dispatch.js";
import { eventTopic, webhookDeliveryJob } from "../../server/src/jobs/webhook-delivery.js";
import { expireSessions } from "../../server/src/jobs/sweeper.js";

type Endpoint = Schemas["WebhookEndpointWithSecret"];
type Event = Schemas["Event"];

const clock = createTestClock();
let server: TestServer;
let runner: JobRunner;
let receiver: EventReceiver;
let jwks: { keys: Array<Record<string, unknown>> };
const realNumbers: string[] = [];

beforeAll(async () => {
  server = await startTestServer({ env: { MASKLINE_WEBHOOK_ALLOW_PRIVATE: "true" }, clock });
  receiver = await startEventReceiver();
  runner = createJobRunner(
    server.deps,
    createJobRegistry([outboxDispatchJob(new Map([[eventTopic.topic, eventTopic]])), webhookDeliveryJob]),
    { random: () => 0.5 },
  );
  await runner.scheduleRecurring();
  await dispatcherDueNow();
  jwks = (await (await server.request("/.well-known/jwks.json")).json()) as typeof jwks;
});
afterAll(async () => {
  clock.reset();
  // This file moves its clock hours ahead; the dispatcher's row (one per database) must not be left scheduled there.
  await dispatcherDueNow();
  expectNoRealNumbers(server.logs.join(""), realNumbers);
  await receiver?.close();
  await server?.stop();
});

async function json<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return (text ? JSON.parse(text) : undefined) as T;
}

async function endpointFor(t: TenantFixture, body: Record<string, unknown> = {}): Promise<Endpoint> {
  const res = await server.request("/v1/webhook-endpoints", { method: "POST", apiKey: t.apiKey, json: { url: receiver.url(`/${t.tenantId}`), ...body } });
  return json<Endpoint>(res, 201);
}

async function openSession(t: TenantFixture) {
  const [a, b] = people(2) as [string, string];
  realNumbers.push(a, b);
  return json<Schemas["Session"]>(await createSession(server, t.apiKey, { participants: [{ number: a }, { number: b }] }), 201);
}

/** The dispatcher's recurring row, due at the real now (a shared database may hold it from another run's clock). */
async function dispatcherDueNow() {
  // Nothing dispatches in the other test files, so a shared database holds every earlier run's events undispatched:
  // they are set aside here (no endpoint of theirs exists any more), or this file's events would queue behind them.
  await server.deps.db("outbox").whereNull("dispatched_at").where("created_at", "<", new Date()).update({ dispatched_at: new Date(), dispatched_jobs: 0 });
  await server.deps.db("jobs")
    .where({ dedupe_key: "recurring:outbox.dispatch" })
    .whereNot({ status: "running" })
    .update({ run_at: new Date() });
}

/** The outbox dispatcher runs once a second: a second on, it turns new events into deliveries, which then run. */
async function deliver() {
  clock.shift(1_100);
  await runner.runDue();
}

const deliveredTo = (t: TenantFixture) => receiver.deliveries.filter((d) => d.path === `/${t.tenantId}`);

async function eventsOf(t: TenantFixture, type?: string): Promise<Event[]> {
  const page = await json<{ data: Event[] }>(await server.request(`/v1/events?limit=100${type ? `&type=${type}` : ""}`, { apiKey: t.apiKey }), 200);
  return page.data;
}

describe("event deliveries", () => {
  it("deliver each event signed with v1 (the endpoint's secret) and v1a (the published key), webhook-id = event id", async () => {
    const t = await tenantWithPool(server, { dids: 2 });
    const endpoint = await endpointFor(t);
    expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const session = await openSession(t);
    await deliver();
    const [d] = deliveredTo(t);
    expect(d, "one delivery").toBeDefined();
    expect(d!.event).toMatchObject({ type: "session.created", data: { id: session.id } });
    expect(d!.headers["webhook-id"]).toBe(d!.event.id);
    expect(Math.abs(Number(d!.headers["webhook-timestamp"]) - clock.now().getTime() / 1000)).toBeLessThan(10);
    expect(verifyV1(endpoint.secret, d!)).toBe(true);
    expect(verifyV1a(jwks, d!)).toBe(true);
    // Tampered, or the wrong secret: the receiver's own checks refuse them.
    expect(verifyV1(endpoint.secret, { ...d!, body: d!.body.replace(session.id, "ses_other") })).toBe(false);
    expect(verifyV1("whsec_" + Buffer.alloc(32, 1).toString("base64"), d!)).toBe(false);
    expect(verifyV1a(jwks, { ...d!, body: d!.body + " " })).toBe(false);
    // The event as listed is the body as delivered.
    const listed = await json<Event>(await server.request(`/v1/events/${d!.event.id}`, { apiKey: t.apiKey }), 200);
    expect(listed).toEqual(d!.event);
  });

  it("send only the types an endpoint subscribes to", async () => {
    const t = await tenantWithPool(server, { dids: 2 });
    await endpointFor(t, { events: ["session.closed"] });
    const session = await openSession(t);
    await server.request(`/v1/sessions/${session.id}/close`, { method: "POST", apiKey: t.apiKey });
    await deliver();
    expect(deliveredTo(t).map((d) => d.event.type)).toEqual(["session.closed"]);
  });

  it("show the secret only on create and rotation; after a rotation both secrets sign for a day", async () => {
    const t = await tenantWithPool(server, { dids: 2 });
    const endpoint = await endpointFor(t);
    const read = await json<Record<string, unknown>>(await server.request(`/v1/webhook-endpoints/${endpoint.id}`, { apiKey: t.apiKey }), 200);
    expect(read).not.toHaveProperty("secret");
    const list = await json<{ data: Array<Record<string, unknown>> }>(await server.request("/v1/webhook-endpoints", { apiKey: t.apiKey }), 200);
    expect(list.data[0]).not.toHaveProperty("secret");
    expect(JSON.stringify(list)).not.toContain(endpoint.secret);
    const rotated = await json<{ secret: string }>(
      await server.request(`/v1/webhook-endpoints/${endpoint.id}/rotate-secret`, { method: "POST", apiKey: t.apiKey }),
      200,
    );
    expect(rotated.secret).not.toBe(endpoint.secret);
    await openSession(t);
    await deliver();
    const [d] = deliveredTo(t);
    expect(String(d!.headers["webhook-signature"]).split(" ").filter((s) => s.startsWith("v1,"))).toHaveLength(2);
    expect(verifyV1(endpoint.secret, d!)).toBe(true);
    expect(verifyV1(rotated.secret, d!)).toBe(true);
  });

  it("retry a failing endpoint on the schedule (5 s, 5 min, …) with the same webhook-id, and stop once it answers 2xx", async () => {
    const t = await tenantWithPool(server, { dids: 2 });
    const endpoint = await endpointFor(t);
    const path = `/${t.tenantId}`;
    receiver.replies.push({ status: 500, path }, { status: 500, path }, { status: 503, headers: { "retry-after": "120" }, path });
    await openSession(t);
    await deliver();
    expect(deliveredTo(t)).toHaveLength(1);
    // Not before its step: 4 s later nothing is due.
    clock.shift(4_000);
    await runner.runDue();
    expect(deliveredTo(t)).toHaveLength(1);
    clock.shift(1_100); // 5 s after the first attempt
    await runner.runDue();
    expect(deliveredTo(t)).toHaveLength(2);
    clock.shift(5 * 60_000 + 100); // 5 min after the second
    await runner.runDue();
    expect(deliveredTo(t)).toHaveLength(3);
    // The third answered 503 with Retry-After 120: the fourth comes 2 min later, not the schedule's 30 min.
    clock.shift(119_000);
    await runner.runDue();
    expect(deliveredTo(t)).toHaveLength(3);
    clock.shift(1_100);
    await runner.runDue();
    expect(deliveredTo(t)).toHaveLength(4);
    clock.shift(3 * 3600_000);
    await runner.runDue();
    const ids = new Set(deliveredTo(t).map((d) => d.headers["webhook-id"]));
    expect(ids.size).toBe(1);
    const page = await json<{ data: Schemas["WebhookDelivery"][] }>(
      await server.request(`/v1/webhook-endpoints/${endpoint.id}/deliveries`, { apiKey: t.apiKey }),
      200,
    );
    expect(page.data.map((a) => [a.attempt, a.statusCode, a.outcome])).toEqual([
      [4, 204, "succeeded"],
      [3, 503, "failed"],
      [2, 500, "failed"],
      [1, 500, "failed"],
    ]);
    expect(page.data[0]!.eventType).toBe("session.created");
  });

  it("disable an endpoint that answers 410, record webhook_endpoint.disabled, and resume when it is enabled again", async () => {
    const t = await tenantWithPool(server, { dids: 2 });
    const endpoint = await endpointFor(t);
    receiver.replies.push({ status: 410, path: `/${t.tenantId}` });
    await openSession(t);
    await deliver();
    const after = await json<Schemas["WebhookEndpoint"]>(await server.request(`/v1/webhook-endpoints/${endpoint.id}`, { apiKey: t.apiKey }), 200);
    expect(after).toMatchObject({ enabled: false, disabledReason: "gone" });
    const disabled = await eventsOf(t, "webhook_endpoint.disabled");
    expect(disabled.map((e) => (e.data as { id: string }).id)).toEqual([endpoint.id]);
    await openSession(t);
    clock.shift(3600_000);
    await deliver();
    expect(deliveredTo(t)).toHaveLength(1);
    const enabled = await json<Schemas["WebhookEndpoint"]>(
      await server.request(`/v1/webhook-endpoints/${endpoint.id}`, { method: "PATCH", apiKey: t.apiKey, json: { enabled: true } }),
      200,
    );
    expect(enabled).toMatchObject({ enabled: true, disabledReason: null });
    await openSession(t);
    await deliver();
    expect(deliveredTo(t)).toHaveLength(2);
  });

  it("redeliver an event to every endpoint that wants it, with the same webhook-id", async () => {
    const t = await tenantWithPool(server, { dids: 2 });
    await endpointFor(t);
    await openSession(t);
    await deliver();
    const first = deliveredTo(t)[0]!;
    const result = await json<{ eventId: string; endpoints: number }>(
      await server.request(`/v1/events/${first.event.id}/redeliver`, { method: "POST", apiKey: t.apiKey }),
      202,
    );
    expect(result).toEqual({ eventId: first.event.id, endpoints: 1 });
    await deliver();
    expect(deliveredTo(t).map((d) => d.headers["webhook-id"])).toEqual([first.event.id, first.event.id]);
  });

  it("never send one tenant's events to another tenant's endpoint", async () => {
    const a = await tenantWithPool(server, { dids: 2 });
    const b = await tenantWithPool(server, { dids: 2 });
    await endpointFor(a);
    await endpointFor(b);
    await openSession(a);
    await openSession(a);
    await deliver();
    expect(deliveredTo(a)).toHaveLength(2);
    expect(deliveredTo(b)).toHaveLength(0);
    expect(await eventsOf(b)).toEqual([]);
  });
});

describe("events recorded with their changes", () => {
  it("session.created, updated, closed once each, and session.expired exactly once whether swept or closed late", async () => {
    const t = await tenantWithPool(server, { dids: 4 });
    const s = await openSession(t);
    await json(await server.request(`/v1/sessions/${s.id}`, { method: "PATCH", apiKey: t.apiKey, json: { metadata: { order: "1" } } }), 200);
    await server.request(`/v1/sessions/${s.id}/close`, { method: "POST", apiKey: t.apiKey });
    await server.request(`/v1/sessions/${s.id}/close`, { method: "POST", apiKey: t.apiKey });
    const types = (await eventsOf(t)).filter((e) => (e.data as { id?: string }).id === s.id).map((e) => e.type);
    expect(types).toEqual(["session.closed", "session.updated", "session.created"]);

    // Two sessions that lapse: one swept, one closed after its expiry (lazily marked); then a sweep and a close more.
    clock.reset();
    clock.shift(-3600_000 - 60_000);
    const swept = await openSession(t);
    const lazy = await openSession(t);
    clock.reset();
    await server.request(`/v1/sessions/${lazy.id}/close`, { method: "POST", apiKey: t.apiKey });
    await expireSessions(server.deps);
    await expireSessions(server.deps);
    await server.request(`/v1/sessions/${swept.id}/close`, { method: "POST", apiKey: t.apiKey });
    const expired = (await eventsOf(t, "session.expired")).map((e) => (e.data as { id: string; status: string }));
    expect(expired.map((d) => d.id).sort()).toEqual([swept.id, lazy.id].sort());
    expect(expired.every((d) => d.status === "expired")).toBe(true);
    expect((await eventsOf(t, "session.closed")).map((e) => (e.data as { id: string }).id)).toEqual([s.id]);
  });

  it("pool.exhausted at most once a minute per pool, however many creates are refused", async () => {
    const t = await tenantWithPool(server, { dids: 1 });
    const [a, b, c] = people(3, 500) as [string, string, string];
    realNumbers.push(a, b, c);
    expect((await createSession(server, t.apiKey, { participants: [{ number: a }, { number: b }] })).status).toBe(201);
    for (let i = 0; i < 3; i++) expect((await createSession(server, t.apiKey, { participants: [{ number: a }, { number: c }] })).status).toBe(409);
    expect(await eventsOf(t, "pool.exhausted")).toHaveLength(1);
    clock.shift(61_000);
    expect((await createSession(server, t.apiKey, { participants: [{ number: a }, { number: c }] })).status).toBe(409);
    const exhausted = await eventsOf(t, "pool.exhausted");
    expect(exhausted).toHaveLength(2);
    expect(exhausted[0]!.data).toEqual({ pool: "default", appId: t.app.id });
    expectNoRealNumbers(JSON.stringify(await eventsOf(t)), [a, b, c]);
  });
});

describe("endpoint URLs", () => {
  it("are refused (422) when loopback, private or link-local without MASKLINE_WEBHOOK_ALLOW_PRIVATE, and never connected to", async () => {
    const strict = await startTestServer();
    try {
      const { apiKey } = await strict.createTenant();
      const before = receiver.connections;
      const port = new URL(receiver.url()).port;
      for (const url of [
        receiver.url(),
        `https://127.0.0.1:${port}/hooks`,
        "https://localhost/hooks",
        "https://10.0.0.1/hooks",
        "https://[::1]/hooks",
        "https://169.254.169.254/latest",
        "https://user:pw@example.com/hooks",
      ]) {
        const res = await strict.request("/v1/webhook-endpoints", { method: "POST", apiKey, json: { url } });
        const body = await json<{ code: string; errors: Array<{ path: string }> }>(res, 422);
        expect(body.code, url).toBe("validation_failed");
        expect(body.errors[0]!.path).toBe("/body/url");
      }
      expect(receiver.connections).toBe(before);
    } finally {
      await strict.stop();
    }
  });
});

describe("tenant isolation", () => {
  it("every event and endpoint route is 404 for another tenant, and lists never show another tenant's items", async () => {
    const owner = await tenantWithPool(server, { dids: 2 });
    const intruder = await server.createTenant("Intruder");
    const endpoint = await endpointFor(owner);
    await openSession(owner);
    const [event] = await eventsOf(owner);
    await expectInvisibleToOtherTenant(server, intruder.apiKey, [
      { method: "GET", path: `/v1/events/${event!.id}` },
      { method: "POST", path: `/v1/events/${event!.id}/redeliver` },
      { method: "GET", path: `/v1/webhook-endpoints/${endpoint.id}` },
      { method: "PATCH", path: `/v1/webhook-endpoints/${endpoint.id}`, json: { description: "mine now" } },
      { method: "POST", path: `/v1/webhook-endpoints/${endpoint.id}/rotate-secret` },
      { method: "GET", path: `/v1/webhook-endpoints/${endpoint.id}/deliveries` },
      { method: "DELETE", path: `/v1/webhook-endpoints/${endpoint.id}` },
    ]);
    await expectNotListed(server, intruder.apiKey, "/v1/events", [event!.id]);
    await expectNotListed(server, intruder.apiKey, "/v1/webhook-endpoints", [endpoint.id]);
    // Still there for its owner.
    await json(await server.request(`/v1/webhook-endpoints/${endpoint.id}`, { apiKey: owner.apiKey }), 200);
  });
});
