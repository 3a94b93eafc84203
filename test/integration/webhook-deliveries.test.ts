/**
 * Signed event deliveries, end to end (docs/events.md, Standard Webhooks 1.0): the events API's events reach the
 * tenant's endpoints, a real HTTP receiver (test/support/webhook-receiver.ts), which checks both signatures with its
 * own code; retries follow the contract's schedule on a test clock; 410 disables; private addresses are refused.
 *
 * The harness starts no job runner, so the test builds one over the outbox dispatcher and the delivery kind, and
 * runs what is due with runDue(). The dispatcher is recurring (due a second after its last run), so `deliver()`
 * moves the clock that second first. The clock is frozen: time only moves forward, and only when the test moves it.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/harness.js";
import { createTestClock } from "../support/clock.js";
import { expectNoRealNumbers } from "../support/privacy.js";
import { problemOf } from "../support/isolation.js";
import { AUTH_TOKEN, createSession, people, tenantWithPool, type Schemas, type TenantFixture } from "../support/fixtures.js";
import {
  header,
  signatureEntries,
  startWebhookReceiver,
  v1EntriesSignedBy,
  verifyV1,
  verifyV1a,
  type Jwk,
  type ReceivedRequest,
  type WebhookReceiver,
} from "../support/webhook-receiver.js";
import { VobizSimulator } from "../sim/vobiz-simulator.js";
import { createJobRunner, type JobRunner } from "../../server/src/jobs/runner.js";
import { createJobRegistry } from "../../server/src/jobs/kinds.js";
import { outboxDispatchJob, OUTBOX_DISPATCH_EVERY_MS } from "../../server/src/jobs/outbox-dispatch.js";
import { eventTopic, webhookDeliveryJob } from "../../server/src/jobs/webhook-delivery.js";
import { WEBHOOK_DELIVERY_KIND } from "../../server/src/services/events.js";

type Session = Schemas["Session"];
type Endpoint = Schemas["WebhookEndpoint"];
type EndpointWithSecret = Schemas["WebhookEndpointWithSecret"];
type Delivery = Schemas["WebhookDelivery"];
type Event = { id: string; type: Schemas["EventType"]; createdAt: string; data: Record<string, unknown> };

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
/** The contract's waits after each failed attempt (8 attempts in all), written out here rather than imported. */
const RETRY_SCHEDULE = [5 * SECOND, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR];

const clock = createTestClock();
let server: TestServer;
let runner: JobRunner;
let jwks: { keys: Jwk[] };
// A dispatcher kind of this run's own: its recurring row is rescheduled on this file's moving clock, which must never
// push back the dispatch of any other server sharing the database.
const dispatcherKind = `outbox.dispatch.test-${randomUUID().slice(0, 8)}`;
const receivers: WebhookReceiver[] = [];
const realNumbersSeen: string[] = [];

beforeAll(async () => {
  server = await startTestServer({ clock, env: { MASKLINE_WEBHOOK_ALLOW_PRIVATE: "true" } });
  // Real time stands still here: "not sent a second before its step" must not depend on how busy the machine is.
  clock.freeze();
  // On a database shared with other test files (which run no dispatcher), their events wait undispatched; they are
  // marked done here, or this file's would queue behind thousands of them. Nothing delivers them anyway.
  await server.deps.db("outbox").whereNull("dispatched_at").update({ dispatched_at: new Date(), dispatched_jobs: 0 });
  await setAsideOthersDeliveries();
  const registry = createJobRegistry([outboxDispatchJob(new Map([[eventTopic.topic, eventTopic]]), dispatcherKind), webhookDeliveryJob]);
  // Jitter pinned to its middle; deliveries' retries are unjittered anyway (RetryAt).
  runner = createJobRunner(server.deps, registry, { random: () => 0.5 });
  await runner.scheduleRecurring();
  const res = await fetch(`${server.baseUrl}/.well-known/jwks.json`);
  expect(res.status).toBe(200);
  jwks = (await res.json()) as { keys: Jwk[] };
});
afterAll(async () => {
  await runner?.stop();
  await Promise.all(receivers.map((r) => r.close()));
  if (server) {
    await server.deps.db("jobs").where({ kind: dispatcherKind }).delete();
    await setAsideOthersDeliveries();
  }
  await server?.stop();
});

/**
 * Deliveries no test runs (another file's redelivered events, an earlier run's retries on a shared database) are
 * marked dead: this file's clock jumps hours, and its runner would otherwise deliver them, to ports long closed.
 */
async function setAsideOthersDeliveries() {
  await server.deps.db("jobs").where({ kind: WEBHOOK_DELIVERY_KIND }).whereIn("status", ["queued", "failed"]).update({ status: "dead", finished_at: new Date() });
}

/** Runs what is due now, after the second that makes the outbox dispatcher due again. */
async function deliver(): Promise<void> {
  clock.shift(OUTBOX_DISPATCH_EVERY_MS);
  await runner.runDue();
}

/** Moves the clock and runs what is then due (retries), without the extra second. */
async function after(ms: number): Promise<void> {
  clock.shift(ms);
  await runner.runDue();
}

async function json<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return JSON.parse(text) as T;
}

async function receiver(): Promise<WebhookReceiver> {
  const r = await startWebhookReceiver();
  receivers.push(r);
  return r;
}

async function endpoint(t: { apiKey: string }, url: string, body: Record<string, unknown> = {}): Promise<EndpointWithSecret> {
  return json<EndpointWithSecret>(
    await server.request("/v1/webhook-endpoints", { method: "POST", apiKey: t.apiKey, json: { url, ...body } }),
    201,
  );
}

const getEndpoint = async (t: { apiKey: string }, id: string) => json<Endpoint>(await server.request(`/v1/webhook-endpoints/${id}`, { apiKey: t.apiKey }), 200);

async function open(t: TenantFixture, numbers = people(2)): Promise<Session> {
  realNumbersSeen.push(...numbers);
  return json<Session>(await createSession(server, t.apiKey, { participants: numbers.map((number) => ({ number })) }), 201);
}

/** The tenant's events of a type, newest first. */
async function eventsOf(t: { apiKey: string }, type: string): Promise<Event[]> {
  return (await json<{ data: Event[] }>(await server.request(`/v1/events?type=${type}&limit=100`, { apiKey: t.apiKey }), 200)).data;
}

/** The session.created event of a session. */
async function createdEventOf(t: TenantFixture, session: Session): Promise<Event> {
  const event = (await eventsOf(t, "session.created")).find((e) => e.data.id === session.id);
  expect(event, `session.created of ${session.id}`).toBeDefined();
  return event!;
}

async function deliveriesOf(t: { apiKey: string }, endpointId: string, eventId?: string): Promise<Delivery[]> {
  const query = eventId ? `?eventId=${eventId}&limit=100` : "?limit=100";
  return (await json<{ data: Delivery[] }>(await server.request(`/v1/webhook-endpoints/${endpointId}/deliveries${query}`, { apiKey: t.apiKey }), 200)).data;
}

const typesOf = (r: WebhookReceiver) => r.events().map((e) => e.type);

/** A delivery as the contract has it: the event as the API lists it, under its id, signed both ways right now. */
function expectSignedDelivery(req: ReceivedRequest, secret: string) {
  const body = JSON.parse(req.body) as Event;
  expect(req.method).toBe("POST");
  expect(header(req.headers, "content-type")).toMatch(/^application\/json/);
  expect(header(req.headers, "webhook-id")).toBe(body.id);
  expect(header(req.headers, "webhook-timestamp")).toMatch(/^\d{10}$/);
  const now = clock.now();
  expect(verifyV1(secret, req.headers, req.body, { now }), "v1 signature").toBe(true);
  expect(verifyV1a(jwks, req.headers, req.body, { now }), "v1a signature").toBe(true);
  return body;
}

describe("signed deliveries", () => {
  it("publishes the Ed25519 public keys as a JWK Set, without authentication and without private parts", async () => {
    expect(jwks.keys.length).toBeGreaterThanOrEqual(1);
    for (const key of jwks.keys) {
      expect(key).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA", use: "sig" });
      expect(typeof key.kid).toBe("string");
      expect(Buffer.from(key.x!, "base64url")).toHaveLength(32);
      expect(key).not.toHaveProperty("d");
    }
  });

  it("an endpoint receives its tenant's events as listed, under the event id, and the receiver verifies v1 and v1a with its own code", async () => {
    const t = await tenantWithPool(server);
    const r = await receiver();
    const e = await endpoint(t, r.url);
    const s = await open(t);
    await json(await server.request(`/v1/sessions/${s.id}`, { method: "PATCH", apiKey: t.apiKey, json: { metadata: { a: "1" } } }), 200);
    await deliver();

    expect(r.requests).toHaveLength(2);
    const listed = [...(await eventsOf(t, "session.created")), ...(await eventsOf(t, "session.updated"))];
    const bodies = r.requests.map((req) => expectSignedDelivery(req, e.secret));
    expect(bodies.sort((a, b) => a.id.localeCompare(b.id))).toEqual(listed.sort((a, b) => a.id.localeCompare(b.id)));
    for (const req of r.requests) {
      const entries = signatureEntries(req.headers);
      expect(entries.map((x) => x.version).sort()).toEqual(["v1", "v1a"]);
    }

    // The verifier is not a yes-machine: a wrong secret, a changed byte, a stale timestamp all fail.
    const req = r.requests[0]!;
    const tampered = `${req.body} `;
    expect(tampered).not.toBe(req.body);
    const other = (await endpoint(t, r.url, { events: ["pool.exhausted"] })).secret;
    expect(verifyV1(other, req.headers, req.body, { now: clock.now() })).toBe(false);
    expect(verifyV1(e.secret, req.headers, tampered, { now: clock.now() })).toBe(false);
    expect(verifyV1a(jwks, req.headers, tampered, { now: clock.now() })).toBe(false);
    const later = new Date(clock.now().getTime() + 10 * MINUTE);
    expect(verifyV1(e.secret, req.headers, req.body, { now: later })).toBe(false);
    expect(verifyV1a(jwks, req.headers, req.body, { now: later })).toBe(false);

    // Each delivery is listed once: first attempt, succeeded.
    for (const body of bodies) {
      const [d, ...more] = await deliveriesOf(t, e.id, body.id);
      expect(more).toEqual([]);
      expect(d).toMatchObject({ endpointId: e.id, eventId: body.id, eventType: body.type, attempt: 1, outcome: "succeeded", statusCode: 200, error: null });
      expect(d!.durationMs).toBeGreaterThanOrEqual(0);
      expect(d!.id).toMatch(/^whd_/);
    }
  });

  it("an endpoint subscribed only to call.started gets call.started and never session.created", async () => {
    const t = await tenantWithPool(server);
    const onlyCalls = await receiver();
    const everything = await receiver();
    const e1 = await endpoint(t, onlyCalls.url, { events: ["call.started"] });
    await endpoint(t, everything.url);
    const [a, b] = people(2);
    const s = await open(t, [a!, b!]);
    const sim = new VobizSimulator({ authToken: AUTH_TOKEN, answerUrl: t.app.answerUrl, hangupUrl: t.app.hangupUrl });
    const call = await sim.placeCall({ from: a!, to: s.participants[0]!.proxyNumber });
    expect(call.kind).toBe("dial");
    await deliver();

    expect(typesOf(onlyCalls)).toEqual(["call.started"]);
    const started = expectSignedDelivery(onlyCalls.requests[0]!, e1.secret);
    expect(started.data).toMatchObject({ callUuid: call.callUuid, decision: "bridged" });
    expect(typesOf(everything).sort()).toEqual(["call.started", "session.created"]);
  });
});

describe("endpoint secrets", () => {
  it("shows the secret on create and rotation only; for a day after a rotation each delivery carries a v1 per secret", async () => {
    const t = await tenantWithPool(server);
    const r = await receiver();
    const created = await endpoint(t, r.url);
    const oldSecret = created.secret;
    expect(oldSecret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/);
    expect(Buffer.from(oldSecret.slice("whsec_".length), "base64")).toHaveLength(32);

    const expectNoSecretIn = async (res: Response, ...secrets: string[]) => {
      const text = await res.text();
      expect(res.status, text).toBe(200);
      expect(text).not.toContain("secret");
      for (const secret of secrets) expect(text).not.toContain(secret.slice("whsec_".length));
    };
    await expectNoSecretIn(await server.request(`/v1/webhook-endpoints/${created.id}`, { apiKey: t.apiKey }), oldSecret);
    await expectNoSecretIn(await server.request(`/v1/webhook-endpoints`, { apiKey: t.apiKey }), oldSecret);

    const rotated = await json<{ secret: string }>(
      await server.request(`/v1/webhook-endpoints/${created.id}/rotate-secret`, { method: "POST", apiKey: t.apiKey }),
      200,
    );
    expect(Object.keys(rotated)).toEqual(["secret"]);
    const newSecret = rotated.secret;
    expect(newSecret).toMatch(/^whsec_/);
    expect(newSecret).not.toBe(oldSecret);
    await expectNoSecretIn(await server.request(`/v1/webhook-endpoints/${created.id}`, { apiKey: t.apiKey }), oldSecret, newSecret);
    await expectNoSecretIn(await server.request(`/v1/webhook-endpoints`, { apiKey: t.apiKey }), oldSecret, newSecret);

    await open(t);
    await deliver();
    expect(r.requests).toHaveLength(1);
    const both = r.requests[0]!;
    const v1 = signatureEntries(both.headers).filter((x) => x.version === "v1");
    expect(v1).toHaveLength(2);
    const byOld = v1EntriesSignedBy(oldSecret, both.headers, both.body, { now: clock.now() });
    const byNew = v1EntriesSignedBy(newSecret, both.headers, both.body, { now: clock.now() });
    expect(byOld).toHaveLength(1);
    expect(byNew).toHaveLength(1);
    expect(new Set([...byOld, ...byNew])).toEqual(new Set(v1.map((x) => x.signature)));
    expect(verifyV1a(jwks, both.headers, both.body, { now: clock.now() })).toBe(true);

    // A day later the old secret no longer signs.
    clock.shift(24 * HOUR + MINUTE);
    await open(t);
    await deliver();
    expect(r.requests).toHaveLength(2);
    const onlyNew = r.requests[1]!;
    expect(signatureEntries(onlyNew.headers).filter((x) => x.version === "v1")).toHaveLength(1);
    expect(verifyV1(newSecret, onlyNew.headers, onlyNew.body, { now: clock.now() })).toBe(true);
    expect(verifyV1(oldSecret, onlyNew.headers, onlyNew.body, { now: clock.now() })).toBe(false);
  });
});

describe("retries", () => {
  it("an endpoint answering 500 is retried after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h, never early, under one webhook-id; a 200 ends it", async () => {
    const t = await tenantWithPool(server);
    const r = await receiver();
    r.respondWith(() => 500);
    const e = await endpoint(t, r.url);
    const event = await createdEventOf(t, await open(t));
    await deliver();
    expect(r.requests).toHaveLength(1);

    for (const [i, step] of RETRY_SCHEDULE.entries()) {
      // The eighth and last attempt is answered 200.
      if (i === RETRY_SCHEDULE.length - 1) r.respondWith(() => 200);
      await after(step - SECOND);
      expect(r.requests, `attempt ${i + 2} sent before its ${step / SECOND} s were up`).toHaveLength(i + 1);
      await after(2 * SECOND);
      expect(r.requests, `attempt ${i + 2} not sent once its ${step / SECOND} s were up`).toHaveLength(i + 2);
    }
    // Nothing after the success.
    await after(24 * HOUR);
    expect(r.requests).toHaveLength(RETRY_SCHEDULE.length + 1);

    for (const req of r.requests) {
      expect(header(req.headers, "webhook-id")).toBe(event.id);
      expect(JSON.parse(req.body)).toEqual(event);
    }
    // Each attempt is signed at its own time: the timestamps are the schedule's steps apart (plus the second we waited).
    const stamps = r.requests.map((req) => Number(header(req.headers, "webhook-timestamp")));
    RETRY_SCHEDULE.forEach((step, i) => {
      const gap = stamps[i + 1]! - stamps[i]!;
      expect(gap).toBeGreaterThanOrEqual(step / SECOND);
      expect(gap).toBeLessThanOrEqual(step / SECOND + 3);
    });

    const deliveries = await deliveriesOf(t, e.id, event.id);
    expect(deliveries.map((d) => d.attempt)).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
    expect(deliveries[0]).toMatchObject({ outcome: "succeeded", statusCode: 200, error: null });
    for (const d of deliveries.slice(1)) {
      expect(d).toMatchObject({ outcome: "failed", statusCode: 500, eventId: event.id, eventType: "session.created" });
      expect(d.error).toContain("500");
    }
    // A success ends the streak: the endpoint is still enabled.
    expect(await getEndpoint(t, e.id)).toMatchObject({ enabled: true, disabledReason: null });
  });

  it("a delivery failing all eight attempts is given up, and nothing more is sent", async () => {
    const t = await tenantWithPool(server);
    const r = await receiver();
    r.respondWith(() => 500);
    const e = await endpoint(t, r.url);
    const event = await createdEventOf(t, await open(t));
    await deliver();
    for (const step of RETRY_SCHEDULE) await after(step + SECOND);
    expect(r.requests).toHaveLength(8);
    await after(3 * 24 * HOUR);
    expect(r.requests).toHaveLength(8);
    const deliveries = await deliveriesOf(t, e.id, event.id);
    expect(deliveries.map((d) => [d.attempt, d.outcome, d.statusCode])).toEqual(
      [8, 7, 6, 5, 4, 3, 2, 1].map((n) => [n, "failed", 500]),
    );
  });

  it("a 503 with Retry-After: 120 is retried after 120 s, not after 5 s", async () => {
    const t = await tenantWithPool(server);
    const r = await receiver();
    r.queue({ status: 503, retryAfter: 120 });
    const e = await endpoint(t, r.url);
    const event = await createdEventOf(t, await open(t));
    await deliver();
    expect(r.requests).toHaveLength(1);

    await after(6 * SECOND);
    expect(r.requests, "retried on the 5 s step despite Retry-After").toHaveLength(1);
    await after(112 * SECOND);
    expect(r.requests, "retried before Retry-After's 120 s").toHaveLength(1);
    await after(3 * SECOND);
    expect(r.requests).toHaveLength(2);
    const stamps = r.requests.map((req) => Number(header(req.headers, "webhook-timestamp")));
    expect(stamps[1]! - stamps[0]!).toBeGreaterThanOrEqual(120);

    const deliveries = await deliveriesOf(t, e.id, event.id);
    expect(deliveries.map((d) => [d.attempt, d.outcome, d.statusCode])).toEqual([
      [2, "succeeded", 200],
      [1, "failed", 503],
    ]);
  });
});

describe("an endpoint that answers 410", () => {
  it("is disabled as gone, gets nothing more, and is announced to the tenant's other endpoints; enabling it again clears the reason", async () => {
    const t = await tenantWithPool(server);
    const gone = await receiver();
    gone.respondWith(() => 410);
    const other = await receiver();
    const g = await endpoint(t, gone.url);
    const o = await endpoint(t, other.url);
    const s = await open(t);
    await deliver();
    expect(typesOf(gone)).toEqual(["session.created"]);

    const disabled = await getEndpoint(t, g.id);
    expect(disabled).toMatchObject({ enabled: false, disabledReason: "gone" });
    const [announcement, ...more] = await eventsOf(t, "webhook_endpoint.disabled");
    expect(more).toEqual([]);
    expect(announcement!.data).toEqual(disabled);
    expect(await deliveriesOf(t, g.id)).toMatchObject([{ attempt: 1, outcome: "failed", statusCode: 410 }]);

    // The announcement reaches the endpoint still enabled; the disabled one gets neither it nor later events.
    await json(await server.request(`/v1/sessions/${s.id}/close`, { method: "POST", apiKey: t.apiKey }), 200);
    await deliver();
    expect(typesOf(other).sort()).toEqual(["session.closed", "session.created", "webhook_endpoint.disabled"]);
    const told = other.requests.find((req) => JSON.parse(req.body).type === "webhook_endpoint.disabled")!;
    expect(expectSignedDelivery(told, o.secret).data).toEqual(disabled);
    await after(HOUR);
    expect(typesOf(gone)).toEqual(["session.created"]);
    expect(other.requests).toHaveLength(3);

    const enabled = await json<Endpoint>(
      await server.request(`/v1/webhook-endpoints/${g.id}`, { method: "PATCH", apiKey: t.apiKey, json: { enabled: true } }),
      200,
    );
    expect(enabled).toMatchObject({ enabled: true, disabledReason: null });
    expect(await getEndpoint(t, g.id)).toMatchObject({ enabled: true, disabledReason: null });
    // Deliveries resume with new events (what happened while it was disabled is not replayed).
    gone.respondWith(() => 200);
    await open(t);
    await deliver();
    expect(typesOf(gone)).toEqual(["session.created", "session.created"]);
    expectSignedDelivery(gone.requests[1]!, g.secret);
  });
});

describe("tenants and redelivery", () => {
  it("another tenant's endpoint never receives this tenant's events", async () => {
    const mine = await tenantWithPool(server);
    const theirs = await tenantWithPool(server);
    const myReceiver = await receiver();
    const theirReceiver = await receiver();
    await endpoint(mine, myReceiver.url);
    await endpoint(theirs, theirReceiver.url);
    const event = await createdEventOf(mine, await open(mine));
    const redelivered = await json<{ endpoints: number }>(
      await server.request(`/v1/events/${event.id}/redeliver`, { method: "POST", apiKey: mine.apiKey }),
      202,
    );
    expect(redelivered.endpoints).toBe(1);
    await deliver();

    expect(myReceiver.deliveriesOf(event.id)).toHaveLength(2);
    expect(theirReceiver.requests).toEqual([]);
    expect(theirReceiver.connections).toBe(0);
  });

  it("redeliver queues the event again for each enabled subscribed endpoint, and it arrives under the same webhook-id", async () => {
    const t = await tenantWithPool(server);
    const r = await receiver();
    const e = await endpoint(t, r.url);
    // Neither of these wants it: one subscribes to another type, the other is disabled.
    await endpoint(t, r.url, { events: ["call.completed"] });
    const off = await endpoint(t, r.url);
    await json(await server.request(`/v1/webhook-endpoints/${off.id}`, { method: "PATCH", apiKey: t.apiKey, json: { enabled: false } }), 200);
    const event = await createdEventOf(t, await open(t));
    await deliver();
    expect(r.deliveriesOf(event.id)).toHaveLength(1);

    const res = await server.request(`/v1/events/${event.id}/redeliver`, { method: "POST", apiKey: t.apiKey });
    expect(await json(res, 202)).toEqual({ eventId: event.id, endpoints: 1 });
    await deliver();

    const [first, again, ...more] = r.deliveriesOf(event.id);
    expect(more).toEqual([]);
    expect(again!.body).toBe(first!.body);
    expectSignedDelivery(again!, e.secret);
    expect((await deliveriesOf(t, e.id, event.id)).map((d) => [d.attempt, d.outcome])).toEqual([
      [1, "succeeded"],
      [1, "succeeded"],
    ]);
    const missing = await server.request(`/v1/events/evt_01JZZZZZZZZZZZZZZZZZZZZZZZ/redeliver`, { method: "POST", apiKey: t.apiKey });
    expect(missing.status).toBe(404);
  });

  it("deleting an endpoint answers 204 (again on a repeat), removes it, and drops the retries still pending for it", async () => {
    const t = await tenantWithPool(server);
    const r = await receiver();
    r.respondWith(() => 500);
    const e = await endpoint(t, r.url);
    await open(t);
    await deliver();
    expect(r.requests).toHaveLength(1);

    const res = await server.request(`/v1/webhook-endpoints/${e.id}`, { method: "DELETE", apiKey: t.apiKey });
    const gone = await server.request(`/v1/webhook-endpoints/${e.id}`, { apiKey: t.apiKey });
    const list = await json<{ data: Endpoint[] }>(await server.request(`/v1/webhook-endpoints`, { apiKey: t.apiKey }), 200);
    await after(10 * SECOND);
    // What it did, first: gone from GET and the list, and the pending retry dropped.
    expect(gone.status).toBe(404);
    expect(list.data.map((x) => x.id)).not.toContain(e.id);
    expect(r.requests).toHaveLength(1);
    // Then what it said; deleting it again is the same answer.
    expect(res.status, await res.text()).toBe(204);
    expect((await server.request(`/v1/webhook-endpoints/${e.id}`, { method: "DELETE", apiKey: t.apiKey })).status).toBe(204);
  });
});

describe("private addresses, when the operator has not allowed them", () => {
  let strict: TestServer;
  let target: WebhookReceiver;
  beforeAll(async () => {
    strict = await startTestServer();
    target = await receiver();
  });
  afterAll(async () => {
    await strict?.stop();
  });

  it("loopback, private, link-local and metadata URLs are refused with 422 at create and at PATCH, and nothing connects to them", async () => {
    const { apiKey } = await strict.createTenant("Strict");
    const refused = [
      `http://127.0.0.1:${target.port}/hooks`,
      `https://127.0.0.1:${target.port}/hooks`,
      `https://localhost:${target.port}/hooks`,
      "https://10.0.0.1/",
      `https://[::1]:${target.port}/hooks`,
      "https://169.254.169.254/latest/meta-data/",
    ];
    const expectRefused = async (res: Response, url: string) => {
      expect(res.status, `${url}: ${res.status}`).toBe(422);
      const problem = await problemOf(res);
      expect(problem.code).toBe("validation_failed");
      expect(problem.errors?.map((x) => x.path)).toContain("/body/url");
    };
    for (const url of refused) {
      await expectRefused(await strict.request("/v1/webhook-endpoints", { method: "POST", apiKey, json: { url } }), url);
    }
    // A public address literal is accepted (no name to resolve; nothing is sent to it: this server runs no deliveries).
    const publicUrl = "https://93.184.216.34/hooks";
    const created = await strict.request("/v1/webhook-endpoints", { method: "POST", apiKey, json: { url: publicUrl, events: ["pool.exhausted"] } });
    const e = await json<EndpointWithSecret>(created, 201);
    for (const url of refused) {
      await expectRefused(await strict.request(`/v1/webhook-endpoints/${e.id}`, { method: "PATCH", apiKey, json: { url } }), url);
    }
    const list = await json<{ data: Endpoint[] }>(await strict.request("/v1/webhook-endpoints", { apiKey }), 200);
    expect(list.data.map((x) => x.url)).toEqual([publicUrl]);
    expect(target.connections).toBe(0);
    expect(target.requests).toEqual([]);
  });
});

describe("privacy", () => {
  it("no real phone number appears in any delivery or in the server's logs", async () => {
    expect(realNumbersSeen.length).toBeGreaterThan(10);
    const everything = receivers.flatMap((r) => r.requests.map((req) => JSON.stringify(req.headers) + req.body));
    expect(everything.length).toBeGreaterThan(20);
    expectNoRealNumbers(everything.join("\n"), realNumbersSeen);
    expectNoRealNumbers(server.logs.join(""), realNumbersSeen);
  });
});
