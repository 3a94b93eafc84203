/**
 * Click-to-call end to end (`POST /v1/sessions/{id}/calls`): Maskline asks the carrier's REST API to ring one
 * participant from their own masking DID, and bridges the other (who sees their own DID) once the first answers.
 * The carrier is the simulator's REST side (test/sim/vobiz-rest-server.ts), a real HTTP server: the exact bytes the
 * server sends it are asserted, its refusals and stalls are injected, and it plays the placed call's signed
 * callbacks (answer, Dial action, hangup) the way the carrier would.
 *
 * Every test makes its own tenant, and tests run in order, so "the carrier requests since this test began" is a
 * slice of the simulator's request log.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/harness.js";
import { createTestClock } from "../support/clock.js";
import { expectNoRealNumbers } from "../support/privacy.js";
import { expectInvisibleToOtherTenant, expectNotListed, problemOf } from "../support/isolation.js";
import { AUTH_TOKEN, createSession, people, tenantWithPool, type Schemas, type TenantFixture } from "../support/fixtures.js";
import { VobizRestServer, type RecordedRestRequest } from "../sim/vobiz-rest-server.js";
import { VobizSimulator } from "../sim/vobiz-simulator.js";
import { DEFAULT_MESSAGES } from "../../server/src/domain/call-decision.js";

type Session = Schemas["Session"];
type Call = Schemas["Call"];
type Event = { id: string; type: Schemas["EventType"]; createdAt: string; data: Record<string, unknown> };

const ACCOUNT = { authId: "MA_TEST", authToken: AUTH_TOKEN };
/** The server gives the carrier this long to answer "place a call"; a stalled answer outlasts it. */
const PLACE_CALL_TIMEOUT_MS = 1_500;
const CALL_FIELDS = ["answer_method", "answer_url", "from", "hangup_method", "hangup_url", "ring_timeout", "time_limit", "to"];

const clock = createTestClock();
let server: TestServer;
let rest: VobizRestServer;
const realNumbersSeen: string[] = [];
const apiKeys: string[] = [];

beforeAll(async () => {
  rest = await VobizRestServer.start({ accounts: [ACCOUNT] });
  server = await startTestServer({
    clock,
    env: { VOBIZ_API_BASE_URL: rest.baseUrl },
    carrierTimeouts: { placeCallMs: PLACE_CALL_TIMEOUT_MS },
  });
});
afterAll(async () => {
  try {
    if (server) {
      // Privacy: no real number in any log line, nor in any event of any tenant this file made.
      expectNoRealNumbers(server.logs.join(""), realNumbersSeen);
      for (const apiKey of apiKeys) expectNoRealNumbers(JSON.stringify(await allEvents(apiKey)), realNumbersSeen);
    }
  } finally {
    await server?.stop();
    await rest?.close();
  }
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

/** The body, after checking the status and that no real number is in it. */
async function json<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expectNoRealNumbers(text, realNumbersSeen);
  return JSON.parse(text) as T;
}

async function problem(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  const body = await problemOf(res);
  expect(body.code).toBe(code);
  expectNoRealNumbers(JSON.stringify(body), realNumbersSeen);
  return body;
}

interface World {
  t: TenantFixture;
  /** participants[0]'s and participants[1]'s real numbers. */
  a: string;
  b: string;
  session: Session;
  p0: Session["participants"][number];
  p1: Session["participants"][number];
}

async function tenant(opts: Parameters<typeof tenantWithPool>[1] = {}): Promise<TenantFixture> {
  const t = await tenantWithPool(server, opts);
  apiKeys.push(t.apiKey);
  return t;
}

async function openSession(t: TenantFixture, body: Record<string, unknown> = {}): Promise<Omit<World, "t">> {
  const [a, b] = people(2) as [string, string];
  realNumbersSeen.push(a, b);
  const session = await json<Session>(await createSession(server, t.apiKey, { participants: [{ number: a }, { number: b }], ...body }), 201);
  return { a, b, session, p0: session.participants[0]!, p1: session.participants[1]! };
}

async function world(body: Record<string, unknown> = {}, app: Record<string, unknown> = {}): Promise<World> {
  const t = await tenant({ app });
  return { t, ...(await openSession(t, body)) };
}

const placeCall = (t: { apiKey: string }, sessionId: string, participantId: string, headers: Record<string, string> = {}) =>
  server.request(`/v1/sessions/${sessionId}/calls`, { method: "POST", apiKey: t.apiKey, json: { participantId }, headers });

const getCall = async (t: { apiKey: string }, id: string) => json<Call>(await server.request(`/v1/calls/${id}`, { apiKey: t.apiKey }), 200);

/** The carrier's requests to place a call from `since` (an index into its log) on. */
const callPosts = (since: number): RecordedRestRequest[] =>
  rest.requests.slice(since).filter((r) => r.method === "POST" && r.path === `/api/v1/Account/${ACCOUNT.authId}/Call/`);

/** Every event of the tenant, newest first, walking the pages. */
async function allEvents(apiKey: string): Promise<Event[]> {
  const out: Event[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ limit: "100" });
    if (cursor) query.set("cursor", cursor);
    const page: { data: Event[]; nextCursor: string | null } = await json(await server.request(`/v1/events?${query}`, { apiKey }), 200);
    out.push(...page.data);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

/** The call's events, oldest first. */
const callEvents = async (t: { apiKey: string }, callId: string) =>
  (await allEvents(t.apiKey)).filter((e) => e.type.startsWith("call.") && e.data.id === callId).reverse();

/** A signed carrier request to one of the placed call's URLs, with `change` applied to its query first. */
function signedTo(url: string, change: (q: URLSearchParams) => void = () => undefined) {
  const u = new URL(url);
  change(u.searchParams);
  return new VobizSimulator({ authToken: AUTH_TOKEN, answerUrl: u.toString() });
}

describe("placing a call", () => {
  it("rings participants[0] from their own DID with exactly the documented request, then bridges participants[1] shown their own DID", async () => {
    const w = await world({}, { maxCallSeconds: 1800, ringTimeoutSeconds: 25 });
    const since = rest.requests.length;
    const placed = await json<Call>(await placeCall(w.t, w.session.id, w.p0.id), 202);
    expect(placed).toMatchObject({
      direction: "outbound",
      status: "initiated",
      decision: "pending",
      appId: w.t.app.id,
      sessionId: w.session.id,
      fromParticipantId: w.p0.id,
      toParticipantId: w.p1.id,
      proxyNumber: w.p0.proxyNumber,
      answeredAt: null,
      endedAt: null,
    });

    // The carrier saw exactly one request: the documented path, headers and JSON fields, nothing else.
    const posts = callPosts(since);
    expect(posts).toHaveLength(1);
    expect(rest.requests.slice(since)).toHaveLength(1);
    const post = posts[0]!;
    expect(post.headers["x-auth-id"]).toBe(ACCOUNT.authId);
    expect(post.headers["x-auth-token"]).toBe(AUTH_TOKEN);
    expect(post.headers["content-type"]).toMatch(/^application\/json/);
    expect(post.headers.authorization).toBeUndefined();
    expect(post.status).toBe(201);
    const body = post.body as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(CALL_FIELDS);
    const callBase = `${server.baseUrl}/v1/vobiz/${w.t.app.id}/calls/${placed.id}`;
    expect(body).toMatchObject({ from: w.p0.proxyNumber, to: w.a, answer_method: "POST", hangup_method: "POST", time_limit: 1800, ring_timeout: 25 });
    const answerUrl = new URL(body.answer_url as string);
    const hangupUrl = new URL(body.hangup_url as string);
    expect(answerUrl.origin + answerUrl.pathname).toBe(`${callBase}/answer`);
    expect(hangupUrl.origin + hangupUrl.pathname).toBe(`${callBase}/hangup`);
    // The app's URL secret, and the call's own secret (the same in both URLs, never the app's).
    const k = new URL(w.t.app.answerUrl).searchParams.get("k");
    for (const url of [answerUrl, hangupUrl]) {
      expect(url.searchParams.get("k")).toBe(k);
      expect(url.searchParams.get("t")).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    }
    expect(hangupUrl.searchParams.get("t")).toBe(answerUrl.searchParams.get("t"));
    expect(answerUrl.searchParams.get("t")).not.toBe(k);

    // Nothing says it rings yet: still `initiated` until its callbacks come.
    expect(await getCall(w.t, placed.id)).toEqual(placed);

    // The carrier named the call: its request_uuid is the call's CallUUID.
    const simCall = [...rest.calls.values()].find((c) => c.answerUrl === body.answer_url)!;
    expect(placed.callUuid).toBe(simCall.requestUuid);
    expect(simCall).toMatchObject({ from: w.p0.proxyNumber, to: w.a });

    // participants[0] picks up: the carrier fetches the call's answer URL, and participants[1] is dialled.
    const answered = await rest.answerPlacedCall(simCall.requestUuid);
    expect(answered.status).toBe(200);
    expect(answered.contentType).toMatch(/^application\/xml/);
    expect(answered.kind, answered.xml).toBe("dial");
    expect(answered.problems).toEqual([]);
    expect(answered.dial).toMatchObject({ numbers: [w.b], callerId: w.p1.proxyNumber, timeLimit: 1800, timeout: 25, action: w.t.app.dialStatusUrl });
    // Not a recorded session: no notice, no recording.
    expect(answered.verbs.map((v) => v.name)).toEqual(["Dial"]);
    expect(answered.record).toBeUndefined();

    const live = await getCall(w.t, placed.id);
    expect(live).toMatchObject({ id: placed.id, direction: "outbound", decision: "bridged", status: "in-progress", callUuid: simCall.requestUuid, endedAt: null });

    const done = await rest.completePlacedCall(simCall.requestUuid, answered, { durationSeconds: 42 });
    expect(done.dialAction?.status).toBe(200);
    expect(done.hangup.status).toBe(200);
    const ended = await getCall(w.t, placed.id);
    expect(ended).toMatchObject({ direction: "outbound", decision: "bridged", status: "completed", dialStatus: "completed", durationSeconds: 42 });
    expect(ended.answeredAt).not.toBeNull();
    expect(ended.endedAt).not.toBeNull();

    // The carrier redelivers the hangup notice: nothing changes, no event twice.
    const again = await signedTo(done.hangup.url).request(done.hangup.url, done.hangup.fields);
    expect(again.status).toBe(200);
    const events = await callEvents(w.t, placed.id);
    expect(events.map((e) => e.type)).toEqual(["call.started", "call.answered", "call.completed"]);
    expect(events[0]!.data).toMatchObject({ direction: "outbound", decision: "bridged" });
    expect(events[2]!.data).toEqual(ended);
    // Still one request to place it.
    expect(callPosts(since)).toHaveLength(1);
  });

  it("a carrier that retries the answer gets the same XML, and the call starts once", async () => {
    const w = await world();
    const placed = await json<Call>(await placeCall(w.t, w.session.id, w.p0.id), 202);
    const first = await rest.answerPlacedCall(placed.callUuid!);
    const second = await rest.answerPlacedCall(placed.callUuid!);
    expect(second.xml).toBe(first.xml);
    expect(second.dial?.numbers).toEqual([w.b]);
    const events = await callEvents(w.t, placed.id);
    expect(events.map((e) => e.type)).toEqual(["call.started"]);
  });

  it("a two-way session's participants[1] may be rung too: from their own DID, bridging participants[0] shown theirs", async () => {
    const w = await world();
    const since = rest.requests.length;
    const placed = await json<Call>(await placeCall(w.t, w.session.id, w.p1.id), 202);
    expect(placed).toMatchObject({ fromParticipantId: w.p1.id, toParticipantId: w.p0.id, proxyNumber: w.p1.proxyNumber });
    expect(callPosts(since)[0]!.body).toMatchObject({ from: w.p1.proxyNumber, to: w.b });
    const answered = await rest.answerPlacedCall(placed.callUuid!);
    expect(answered.dial).toMatchObject({ numbers: [w.a], callerId: w.p0.proxyNumber });
  });

  it("a participant who does not pick up leaves the call no-answer, unanswered, with one call.completed", async () => {
    const w = await world();
    const placed = await json<Call>(await placeCall(w.t, w.session.id, w.p0.id), 202);
    const notice = await rest.failPlacedCall(placed.callUuid!, "no-answer");
    expect(notice.status).toBe(200);
    const call = await getCall(w.t, placed.id);
    expect(call).toMatchObject({ direction: "outbound", status: "no-answer", answeredAt: null, hangupCauseCode: "3000" });
    expect(call.endedAt).not.toBeNull();
    const events = await callEvents(w.t, placed.id);
    expect(events.filter((e) => e.type === "call.completed")).toHaveLength(1);
    expect(events.filter((e) => e.type === "call.answered")).toHaveLength(0);
  });

  it("a session that ended while the phone rang: the answer says so and dials nobody", async () => {
    const w = await world();
    const placed = await json<Call>(await placeCall(w.t, w.session.id, w.p0.id), 202);
    await json<Session>(await server.request(`/v1/sessions/${w.session.id}/close`, { method: "POST", apiKey: w.t.apiKey }), 200);
    const answered = await rest.answerPlacedCall(placed.callUuid!);
    expect(answered.kind, answered.xml).toBe("reject");
    expect(answered.speak).toEqual([DEFAULT_MESSAGES.sessionEnded]);
    expect(answered.xml).not.toContain(w.b);
    expect(await getCall(w.t, placed.id)).toMatchObject({ decision: "rejected_session_closed" });
  });
});

describe("who can be rung", () => {
  it("409 for a closed session, an expired one, and participants[1] of a one-way session; nothing reaches the carrier", async () => {
    const w = await world();
    await json<Session>(await server.request(`/v1/sessions/${w.session.id}/close`, { method: "POST", apiKey: w.t.apiKey }), 200);
    const expired = await inThePast(5_000, () => openSession(w.t, { ttlSeconds: 1 }));
    const oneWay = await openSession(w.t, { mode: "one_way" });

    const since = rest.requests.length;
    await problem(await placeCall(w.t, w.session.id, w.p0.id), 409, "conflict");
    await problem(await placeCall(w.t, expired.session.id, expired.p0.id), 409, "conflict");
    await problem(await placeCall(w.t, oneWay.session.id, oneWay.p1.id), 409, "conflict");
    expect(rest.requests.slice(since)).toHaveLength(0);

    // participants[0] of the one-way session may call.
    const placed = await json<Call>(await placeCall(w.t, oneWay.session.id, oneWay.p0.id), 202);
    expect(placed).toMatchObject({ fromParticipantId: oneWay.p0.id, status: "initiated" });
    expect(callPosts(since)).toHaveLength(1);
  });

  it("422 for a participant who is not in the session (another session's, or none), 404 for no such session", async () => {
    const w = await world();
    const other = await openSession(w.t);
    const since = rest.requests.length;
    for (const participantId of [other.p0.id, "par_doesnotexist0000000000"]) {
      const body = await problem(await placeCall(w.t, w.session.id, participantId), 422, "validation_failed");
      expect(body.errors?.map((e) => e.path)).toContain("/body/participantId");
    }
    await problem(await placeCall(w.t, "ses_doesnotexist0000000000", w.p0.id), 404, "not_found");
    expect(rest.requests.slice(since)).toHaveLength(0);
  });
});

describe("the carrier's answers", () => {
  it.each([402, 429, 500, 503])("a carrier %i is 502 carrier_error with the carrier's reason; the call failed, nothing is retried", async (status) => {
    const w = await world();
    const since = rest.requests.length;
    rest.failNext(status, `simulated refusal ${status}`);
    const body = await problem(await placeCall(w.t, w.session.id, w.p0.id), 502, "carrier_error");
    expect(body.detail).toContain(`simulated refusal ${status}`);
    expect(body.detail).toContain(String(status));
    expect(body.detail).not.toContain(AUTH_TOKEN);
    expect(callPosts(since)).toHaveLength(1);
    const calls = await json<{ data: Call[] }>(await server.request(`/v1/calls?sessionId=${w.session.id}`, { apiKey: w.t.apiKey }), 200);
    expect(calls.data).toHaveLength(1);
    expect(calls.data[0]).toMatchObject({ direction: "outbound", status: "failed", callUuid: null });
  });

  it("a carrier reason that names the number rung is never repeated with it", async () => {
    const w = await world();
    rest.failNext(400, `Invalid 'to' number ${w.a} (${w.a.slice(1)}) for account`);
    const body = await problem(await placeCall(w.t, w.session.id, w.p0.id), 502, "carrier_error");
    // Masked as everywhere else (+91******0001): the reason stays readable, the number does not survive.
    expect(body.detail).toMatch(/Invalid 'to' number \+91\*+\d{4} \(\*+\d{4}\) for account/);
    expectNoRealNumbers(body.detail, [w.a]);
  });

  it("a read timeout leaves the call unknown, placed once; a retry with the same key replays it; its callbacks settle it", async () => {
    const w = await world();
    const since = rest.requests.length;
    rest.stallNext(PLACE_CALL_TIMEOUT_MS + 2_500);
    const key = { "Idempotency-Key": `ctc-timeout-${w.session.id}` };
    const started = performance.now();
    const placed = await json<Call>(await placeCall(w.t, w.session.id, w.p0.id, key), 202);
    expect(performance.now() - started).toBeLessThan(PLACE_CALL_TIMEOUT_MS + 2_000);
    expect(placed).toMatchObject({ direction: "outbound", status: "unknown", callUuid: null, decision: "pending" });
    // The carrier did get it (the stall answers late): one request, never a second.
    expect(callPosts(since)).toHaveLength(1);
    const simCall = [...rest.calls.values()].find((c) => c.answerUrl.includes(`/calls/${placed.id}/answer`))!;
    expect(simCall).toBeDefined();

    const replay = await placeCall(w.t, w.session.id, w.p0.id, key);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(await json<Call>(replay, 202)).toEqual(placed);
    expect(callPosts(since)).toHaveLength(1);
    expect(await getCall(w.t, placed.id)).toMatchObject({ status: "unknown", callUuid: null });

    // It was placed after all: the answer names it, and it is bridged like any other.
    const answered = await rest.answerPlacedCall(simCall.requestUuid);
    expect(answered.dial?.numbers).toEqual([w.b]);
    expect(await getCall(w.t, placed.id)).toMatchObject({ status: "in-progress", decision: "bridged", callUuid: simCall.requestUuid });
    const calls = await json<{ data: Call[] }>(await server.request(`/v1/calls?sessionId=${w.session.id}`, { apiKey: w.t.apiKey }), 200);
    expect(calls.data).toHaveLength(1);
  });

  it("an answer cut off mid-body is an unknown outcome too; the hangup of a call never answered names it and ends it", async () => {
    const w = await world();
    const since = rest.requests.length;
    rest.stallNextBody(PLACE_CALL_TIMEOUT_MS + 2_500);
    const placed = await json<Call>(await placeCall(w.t, w.session.id, w.p0.id), 202);
    expect(placed).toMatchObject({ status: "unknown", callUuid: null });
    expect(callPosts(since)).toHaveLength(1);
    const simCall = [...rest.calls.values()].find((c) => c.answerUrl.includes(`/calls/${placed.id}/answer`))!;
    expect((await rest.failPlacedCall(simCall.requestUuid, "busy")).status).toBe(200);
    const call = await getCall(w.t, placed.id);
    expect(call).toMatchObject({ status: "busy", callUuid: simCall.requestUuid, answeredAt: null, decision: "pending" });
    expect(call.endedAt).not.toBeNull();
  });

  it("a retry while the carrier has not answered yet replays the call placed, never places a second one", async () => {
    const w = await world();
    const since = rest.requests.length;
    const key = { "Idempotency-Key": `ctc-inflight-${w.session.id}` };
    rest.stallNext(PLACE_CALL_TIMEOUT_MS + 2_500);
    const first = placeCall(w.t, w.session.id, w.p0.id, key);
    // The carrier holds the request now; the client gives up waiting and tries again.
    for (let i = 0; i < 200 && callPosts(since).length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(callPosts(since)).toHaveLength(1);
    const retry = await placeCall(w.t, w.session.id, w.p0.id, key);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    const replayed = await json<Call>(retry, 202);
    expect(replayed).toMatchObject({ direction: "outbound", status: "initiated", callUuid: null });
    const settled = await json<Call>(await first, 202);
    expect(settled).toMatchObject({ id: replayed.id, status: "unknown" });
    // From then on the settled answer is the one replayed.
    expect(await json<Call>(await placeCall(w.t, w.session.id, w.p0.id, key), 202)).toEqual(settled);
    expect(callPosts(since)).toHaveLength(1);
  });

  it("without a key, a timeout is not retried by the server either", async () => {
    const w = await world();
    const since = rest.requests.length;
    rest.stallNext(PLACE_CALL_TIMEOUT_MS + 2_500);
    const placed = await json<Call>(await placeCall(w.t, w.session.id, w.p0.id), 202);
    expect(placed.status).toBe("unknown");
    expect(callPosts(since)).toHaveLength(1);
  });
});

describe("Idempotency-Key", () => {
  it("a repeat replays the same call and the carrier sees one request", async () => {
    const w = await world();
    const since = rest.requests.length;
    const key = { "Idempotency-Key": `ctc-${w.session.id}` };
    const first = await json<Call>(await placeCall(w.t, w.session.id, w.p0.id, key), 202);
    const repeat = await placeCall(w.t, w.session.id, w.p0.id, key);
    expect(repeat.headers.get("idempotent-replayed")).toBe("true");
    expect(await json<Call>(repeat, 202)).toEqual(first);
    expect(callPosts(since)).toHaveLength(1);
    // The same key for another participant is another request: refused, not replayed.
    expect((await placeCall(w.t, w.session.id, w.p1.id, key)).status).toBe(409);
    expect(callPosts(since)).toHaveLength(1);
  });

  it("a call the carrier refused may be placed again with the same key", async () => {
    const w = await world();
    const since = rest.requests.length;
    const key = { "Idempotency-Key": `ctc-refused-${w.session.id}` };
    rest.failNext(503, "try later");
    await problem(await placeCall(w.t, w.session.id, w.p0.id, key), 502, "carrier_error");
    const placed = await json<Call>(await placeCall(w.t, w.session.id, w.p0.id, key), 202);
    expect(placed.status).toBe("initiated");
    expect(callPosts(since)).toHaveLength(2);
    expect(callPosts(since)[1]!.status).toBe(201);
    // ... and from then on it is that call that replays.
    const repeat = await placeCall(w.t, w.session.id, w.p0.id, key);
    expect(await json<Call>(repeat, 202)).toEqual(placed);
    expect(callPosts(since)).toHaveLength(2);
  });
});

describe("the placed call's URLs", () => {
  it("refuse a wrong or missing call secret, and another app's call, with 403; nothing changes", async () => {
    const w = await world();
    const other = await world();
    const placed = await json<Call>(await placeCall(w.t, w.session.id, w.p0.id), 202);
    const simCall = rest.calls.get(placed.callUuid!)!;
    const fields = { CallUUID: simCall.requestUuid, From: simCall.from, To: simCall.to, Direction: "outbound", CallStatus: "in-progress" };
    const otherK = new URL(other.t.app.answerUrl).searchParams.get("k")!;
    const forged = [
      // A wrong call secret, and none.
      (u: string) => signedTo(u, (q) => q.set("t", "not-the-call-secret-000000")),
      (u: string) => signedTo(u, (q) => q.delete("t")),
      // Another tenant's app, with its own good URL secret, naming this call (with this call's own secret).
      (u: string) => signedTo(u.replace(`/vobiz/${w.t.app.id}/`, `/vobiz/${other.t.app.id}/`), (q) => q.set("k", otherK)),
    ];
    for (const url of [simCall.answerUrl, simCall.hangupUrl]) {
      for (const make of forged) {
        const sim = make(url);
        const res = await sim.request(sim.options.answerUrl, fields);
        expect(res.status, sim.options.answerUrl.replace(/\?.*/, "")).toBe(403);
        expect(JSON.parse(res.body)).toMatchObject({ code: "forbidden" });
        expect(res.body).not.toContain(w.b);
      }
    }
    // Still untouched: not answered, not ended; and the right URL still works.
    expect(await getCall(w.t, placed.id)).toMatchObject({ status: "initiated", decision: "pending", endedAt: null });
    expect((await callEvents(w.t, placed.id))).toHaveLength(0);
    const answered = await rest.answerPlacedCall(simCall.requestUuid);
    expect(answered.dial?.numbers).toEqual([w.b]);
  });
});

describe("rate limit", () => {
  let limited: TestServer;
  beforeAll(async () => {
    limited = await startTestServer({ env: { VOBIZ_API_BASE_URL: rest.baseUrl, MASKLINE_CALLS_PER_SECOND: "1" } });
  });
  afterAll(async () => {
    if (limited) expectNoRealNumbers(limited.logs.join(""), realNumbersSeen);
    await limited?.stop();
  });

  it("a tenant over MASKLINE_CALLS_PER_SECOND gets 429 with Retry-After, and the carrier is not asked; another tenant is not limited", async () => {
    const t = await tenantWithPool(limited);
    const u = await tenantWithPool(limited);
    const [a, b, c, d] = people(4) as [string, string, string, string];
    realNumbersSeen.push(a, b, c, d);
    const s = (await (await createSession(limited, t.apiKey, { participants: [{ number: a }, { number: b }] })).json()) as Session;
    const s2 = (await (await createSession(limited, u.apiKey, { participants: [{ number: c }, { number: d }] })).json()) as Session;
    const place = (key: string, session: Session, who = 0) =>
      limited.request(`/v1/sessions/${session.id}/calls`, { method: "POST", apiKey: key, json: { participantId: session.participants[who]!.id } });
    const since = rest.requests.length;
    expect((await place(t.apiKey, s)).status).toBe(202);
    const refused = await place(t.apiKey, s, 1);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect((await problemOf(refused)).code).toBe("rate_limited");
    expect(callPosts(since)).toHaveLength(1);
    expect((await place(u.apiKey, s2)).status).toBe(202);
    expect(callPosts(since)).toHaveLength(2);
    // Nothing was written for the refused one.
    const calls = (await (await limited.request(`/v1/calls?sessionId=${s.id}`, { apiKey: t.apiKey })).json()) as { data: Call[] };
    expect(calls.data).toHaveLength(1);
  });
});

describe("tenant isolation", () => {
  it("another tenant gets 404 placing a call in the session and reading the call, and never lists it", async () => {
    const w = await world();
    const intruder = await tenant();
    const placed = await json<Call>(await placeCall(w.t, w.session.id, w.p0.id), 202);
    const since = rest.requests.length;
    await expectInvisibleToOtherTenant(server, intruder.apiKey, [
      { method: "POST", path: `/v1/sessions/${w.session.id}/calls`, json: { participantId: w.p0.id } },
      { method: "GET", path: `/v1/calls/${placed.id}` },
    ]);
    await expectNotListed(server, intruder.apiKey, "/v1/calls", [placed.id]);
    await expectNotListed(server, intruder.apiKey, `/v1/calls?sessionId=${w.session.id}`, [placed.id]);
    expect(rest.requests.slice(since)).toHaveLength(0);
  });
});
