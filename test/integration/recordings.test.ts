/**
 * Recording with consent, end to end: a recorded session's calls speak the app's notice, then `<Record>` the whole
 * call, then `<Dial>`; the carrier's signed recording callback creates a Recording (and `recording.completed`); the
 * API lists it, streams its audio from the carrier through Maskline with the app's credentials, and deletes it at
 * the carrier first, then here; the tenant's retention purge does the same through `recording.delete` jobs.
 *
 * Both sides of the carrier are the simulator's: the inbound calls (test/sim/vobiz-simulator.ts) and the REST API
 * that keeps the recordings' audio (test/sim/vobiz-rest-server.ts), whose stored bytes the streamed ones must equal.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/harness.js";
import { createTestClock } from "../support/clock.js";
import { expectNoRealNumbers } from "../support/privacy.js";
import { expectInvisibleToOtherTenant, expectNotListed, problemOf } from "../support/isolation.js";
import { AUTH_TOKEN, createSession, people, tenantWithPool, type Schemas, type TenantFixture } from "../support/fixtures.js";
import { VobizRestServer, type RecordedRestRequest } from "../sim/vobiz-rest-server.js";
import { VobizSimulator, type CallResult } from "../sim/vobiz-simulator.js";
import { DEFAULT_MESSAGES } from "../../server/src/domain/call-decision.js";
import { purgeExpiredData } from "../../server/src/jobs/sweeper.js";
import { createJobRunner, type JobRunner } from "../../server/src/jobs/runner.js";
import { createJobRegistry } from "../../server/src/jobs/kinds.js";
import { recordingDeleteJob } from "../../server/src/jobs/recording-delete.js";

type Session = Schemas["Session"];
type Call = Schemas["Call"];
type Recording = Schemas["Recording"];
type Event = { id: string; type: Schemas["EventType"]; createdAt: string; data: Record<string, unknown> };

const ACCOUNT = { authId: "MA_TEST", authToken: AUTH_TOKEN };
const DAY_MS = 86_400_000;

const clock = createTestClock();
let server: TestServer;
let rest: VobizRestServer;
let runner: JobRunner | undefined;
const realNumbersSeen: string[] = [];
const apiKeys: string[] = [];

beforeAll(async () => {
  rest = await VobizRestServer.start({ accounts: [ACCOUNT] });
  server = await startTestServer({ clock, env: { VOBIZ_API_BASE_URL: rest.baseUrl } });
});
afterAll(async () => {
  try {
    if (server) {
      // Privacy: no real number in any log line, nor in any event of any tenant this file made.
      expectNoRealNumbers(server.logs.join(""), realNumbersSeen);
      for (const apiKey of apiKeys) expectNoRealNumbers(JSON.stringify(await allEvents(apiKey)), realNumbersSeen);
    }
  } finally {
    await runner?.stop();
    await server?.stop();
    await rest?.close();
  }
});

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

async function tenant(app: Record<string, unknown> = {}): Promise<TenantFixture> {
  const t = await tenantWithPool(server, { app });
  apiKeys.push(t.apiKey);
  return t;
}

const carrier = (t: TenantFixture) => new VobizSimulator({ authToken: AUTH_TOKEN, answerUrl: t.app.answerUrl, hangupUrl: t.app.hangupUrl });

interface Opened {
  session: Session;
  a: string;
  b: string;
}

async function openSession(t: TenantFixture, body: Record<string, unknown> = {}): Promise<Opened> {
  const [a, b] = people(2) as [string, string];
  realNumbersSeen.push(a, b);
  const session = await json<Session>(await createSession(server, t.apiKey, { participants: [{ number: a }, { number: b }], ...body }), 201);
  return { session, a, b };
}

interface Dialled {
  call: CallResult;
  /** Maskline's id of the call. */
  callId: string;
}

/** participants[0] dials their DID; the call as the carrier read the reply, and its id here. */
async function dial(t: TenantFixture, o: Opened): Promise<Dialled> {
  const call = await carrier(t).placeCall({ from: o.a, to: o.session.participants[0]!.proxyNumber });
  expect(call.status).toBe(200);
  const calls = await json<{ data: Call[] }>(await server.request(`/v1/calls?sessionId=${o.session.id}`, { apiKey: t.apiKey }), 200);
  const row = calls.data.find((c) => c.callUuid === call.callUuid);
  expect(row).toBeDefined();
  return { call, callId: row!.id };
}

interface Recorded extends Dialled {
  recording: Recording;
  /** The carrier's id of it, and what the callback sent. */
  carrierId: string;
  callback: Awaited<ReturnType<VobizSimulator["postRecording"]>>;
}

/** The carrier's recording callback for a dialled recorded call; the Recording it made. */
async function record(t: TenantFixture, d: Dialled, durationMs = 5_000): Promise<Recorded> {
  const callback = await carrier(t).postRecording(d.call, rest, { durationMs });
  expect(callback.status).toBe(200);
  expect(callback.parsed.kind).toBe("empty");
  const list = await json<{ data: Recording[] }>(await server.request(`/v1/recordings?callId=${d.callId}`, { apiKey: t.apiKey }), 200);
  expect(list.data).toHaveLength(1);
  return { ...d, recording: list.data[0]!, carrierId: callback.recordingId, callback };
}

async function recordedCall(t: TenantFixture, durationMs?: number): Promise<Recorded & { opened: Opened }> {
  const opened = await openSession(t, { recording: true });
  return { ...(await record(t, await dial(t, opened), durationMs)), opened };
}

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

const getRecording = (t: { apiKey: string }, id: string) => server.request(`/v1/recordings/${id}`, { apiKey: t.apiKey });
const media = (t: { apiKey: string }, id: string) => server.request(`/v1/recordings/${id}/media`, { apiKey: t.apiKey });
const remove = (t: { apiKey: string }, id: string) => server.request(`/v1/recordings/${id}`, { method: "DELETE", apiKey: t.apiKey });

/** The carrier requests about one recording (its API item and its media) from `since` on. */
const carrierRequestsFor = (carrierId: string, since = 0): RecordedRestRequest[] =>
  rest.requests.slice(since).filter((r) => r.path.includes(carrierId));

function expectAccountHeaders(req: RecordedRestRequest) {
  expect(req.headers["x-auth-id"]).toBe(ACCOUNT.authId);
  expect(req.headers["x-auth-token"]).toBe(AUTH_TOKEN);
}

describe("the answer of a recorded call", () => {
  it("speaks the app's notice, then records the whole call (limits = maxCallSeconds, callback to Maskline), then dials", async () => {
    const notice = "Calls are recorded & kept <private> for 'quality'.";
    const t = await tenant({ maxCallSeconds: 1800, messages: { recordingNotice: notice } });
    expect(t.app.recordCalls).toBe(false);
    expect(t.app.messages.recordingNotice).toBe(notice);
    const o = await openSession(t, { recording: true });
    expect(o.session.recording).toBe(true);
    const { call } = await dial(t, o);
    expect(call.kind, call.xml).toBe("dial");
    expect(call.problems).toEqual([]);
    expect(call.verbs.map((v) => v.name)).toEqual(["Speak", "Record", "Dial"]);
    expect(call.speak).toEqual([notice]);
    const k = new URL(t.app.answerUrl).searchParams.get("k");
    expect(call.record).toMatchObject({
      recordSession: true,
      maxLength: 1800,
      timeout: 1800,
      fileFormat: "mp3",
      callbackUrl: `${server.baseUrl}/v1/vobiz/${t.app.id}/recording?k=${k}`,
      callbackMethod: "POST",
    });
    expect(call.dial).toMatchObject({ numbers: [o.b], callerId: o.session.participants[1]!.proxyNumber, timeLimit: 1800 });
  });

  it("an unrecorded session's call has no notice and no Record", async () => {
    const t = await tenant();
    const o = await openSession(t);
    expect(o.session.recording).toBe(false);
    const { call } = await dial(t, o);
    expect(call.verbs.map((v) => v.name)).toEqual(["Dial"]);
    expect(call.record).toBeUndefined();
    expect(call.xml).not.toContain(DEFAULT_MESSAGES.recordingNotice);
  });

  it("an app's recordCalls makes its sessions record by default (with the default notice); a session's recording: false overrides it", async () => {
    const t = await tenant({ recordCalls: true });
    expect(t.app.recordCalls).toBe(true);
    const byDefault = await openSession(t);
    expect(byDefault.session.recording).toBe(true);
    const recorded = await dial(t, byDefault);
    expect(recorded.call.verbs.map((v) => v.name)).toEqual(["Speak", "Record", "Dial"]);
    expect(recorded.call.speak).toEqual([DEFAULT_MESSAGES.recordingNotice]);

    const optedOut = await openSession(t, { recording: false });
    expect(optedOut.session.recording).toBe(false);
    const plain = await dial(t, optedOut);
    expect(plain.call.verbs.map((v) => v.name)).toEqual(["Dial"]);
    // And the session says so on every read.
    const read = await json<Session>(await server.request(`/v1/sessions/${optedOut.session.id}`, { apiKey: t.apiKey }), 200);
    expect(read.recording).toBe(false);
  });
});

describe("the recording callback", () => {
  it("creates one Recording and one recording.completed, however often the carrier sends it", async () => {
    const t = await tenant();
    const r = await recordedCall(t, 7_400);
    expect(r.recording).toMatchObject({ callId: r.callId, sessionId: r.opened.session.id, durationSeconds: 7, format: "mp3" });
    expect(r.recording.id).toMatch(/^rec_/);
    // Never a link to the audio: nothing of the carrier's URL, nor its id, is shown.
    expect(Object.keys(r.recording).sort()).toEqual(["callId", "createdAt", "durationSeconds", "format", "id", "sessionId"]);
    expect(JSON.stringify(r.recording)).not.toContain(r.carrierId);
    // The carrier retries the callback (a fresh nonce, the same recording).
    const again = await carrier(t).request(r.callback.url, r.callback.fields);
    expect(again.status).toBe(200);

    const list = await json<{ data: Recording[] }>(await server.request(`/v1/recordings?callId=${r.callId}`, { apiKey: t.apiKey }), 200);
    expect(list.data).toEqual([r.recording]);
    const read = await json<Recording>(await getRecording(t, r.recording.id), 200);
    expect(read).toEqual(r.recording);
    const events = (await allEvents(t.apiKey)).filter((e) => e.type === "recording.completed");
    expect(events).toHaveLength(1);
    expect(events[0]!.data).toEqual(read);
  });

  it("an unsigned or wrongly signed callback, or one without the app's secret, is 403 and records nothing; another app's call is ignored", async () => {
    const t = await tenant();
    const other = await tenant();
    const o = await openSession(t, { recording: true });
    const d = await dial(t, o);
    const made = rest.addRecording({ authId: ACCOUNT.authId, callUuid: d.call.callUuid });
    const fields = { CallUUID: d.call.callUuid, RecordingID: made.recordingId, RecordUrl: made.recordUrl, RecordingDuration: "5", RecordingDurationMs: "5000", RecordingFormat: "mp3" };
    const url = d.call.record!.callbackUrl!;
    const sim = carrier(t);
    for (const [what, res] of [
      ["unsigned", await sim.request(url, fields, { signatureVersion: "none" })],
      ["bad signature", await sim.request(url, fields, { signatureOverride: "AAAA" })],
      ["wrong token", await sim.request(url, fields, { authToken: "not-the-token" })],
      ["no secret", await sim.request(url.replace(/\?.*$/, ""), fields)],
    ] as const) {
      expect(res.status, what).toBe(403);
    }
    // The other tenant's app (same carrier account and token, its own URL secret) naming this tenant's call.
    const otherUrl = `${server.baseUrl}/v1/vobiz/${other.app.id}/recording?k=${new URL(other.app.answerUrl).searchParams.get("k")}`;
    expect((await carrier(other).request(otherUrl, fields)).status).toBe(200);
    for (const who of [t, other]) {
      expect((await json<{ data: Recording[] }>(await server.request("/v1/recordings", { apiKey: who.apiKey }), 200)).data).toEqual([]);
    }
    // The same callback, properly sent, records it.
    expect((await sim.request(url, fields)).status).toBe(200);
    const list = await json<{ data: Recording[] }>(await server.request("/v1/recordings", { apiKey: t.apiKey }), 200);
    expect(list.data.map((r) => r.callId)).toEqual([d.callId]);
  });
});

describe("listing, streaming and deleting", () => {
  it("lists newest first, filtered by sessionId and by callId, a page at a time", async () => {
    const t = await tenant();
    const first = await openSession(t, { recording: true });
    const second = await openSession(t, { recording: true });
    const r1 = await record(t, await dial(t, first));
    const r2 = await record(t, await dial(t, first));
    const r3 = await record(t, await dial(t, second));
    const list = async (query: string) =>
      (await json<{ data: Recording[]; nextCursor: string | null }>(await server.request(`/v1/recordings${query}`, { apiKey: t.apiKey }), 200));
    const ids = (page: { data: Recording[] }) => page.data.map((r) => r.id);
    expect(ids(await list(""))).toEqual([r3, r2, r1].map((r) => r.recording.id));
    expect(ids(await list(`?sessionId=${first.session.id}`))).toEqual([r2, r1].map((r) => r.recording.id));
    expect(ids(await list(`?sessionId=${second.session.id}`))).toEqual([r3.recording.id]);
    expect(ids(await list(`?callId=${r1.callId}`))).toEqual([r1.recording.id]);
    expect(ids(await list(`?sessionId=${second.session.id}&callId=${r1.callId}`))).toEqual([]);
    const page1 = await list("?limit=2");
    expect(ids(page1)).toEqual([r3, r2].map((r) => r.recording.id));
    expect(page1.nextCursor).not.toBeNull();
    const page2 = await list(`?limit=2&cursor=${page1.nextCursor}`);
    expect(ids(page2)).toEqual([r1.recording.id]);
    expect(page2.nextCursor).toBeNull();
  });

  it("streams the carrier's bytes with the format's media type, fetched with the app's credentials, never cached", async () => {
    const t = await tenant();
    const r = await recordedCall(t);
    const since = rest.requests.length;
    const res = await media(t, r.recording.id);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("audio/mpeg");
    expect(res.headers.get("cache-control")).toBe("private, no-store");
    const bytes = Buffer.from(await res.arrayBuffer());
    const stored = rest.recordings.get(r.carrierId)!.bytes;
    expect(bytes.length).toBe(stored.length);
    expect(bytes.equals(stored)).toBe(true);
    expect(res.headers.get("content-length")).toBe(String(stored.length));
    // Through the API (the recording by the carrier's id), then its media, both with the account's headers.
    const asked = carrierRequestsFor(r.carrierId, since);
    expect(asked.map((q) => `${q.method} ${q.path}`)).toEqual([
      `GET /api/v1/Account/${ACCOUNT.authId}/Recording/${r.carrierId}/`,
      `GET /media/${r.carrierId}.mp3`,
    ]);
    for (const q of asked) expectAccountHeaders(q);

    // A WAV recording is served as audio/wav.
    const o = await openSession(t, { recording: true });
    const d = await dial(t, o);
    const wav = rest.addRecording({ authId: ACCOUNT.authId, callUuid: d.call.callUuid, format: "wav", durationMs: 3_000 });
    const fields = { CallUUID: d.call.callUuid, RecordingID: wav.recordingId, RecordUrl: wav.recordUrl, RecordingDurationMs: "3000", RecordingFormat: "wav" };
    expect((await carrier(t).request(d.call.record!.callbackUrl!, fields)).status).toBe(200);
    const [recording] = (await json<{ data: Recording[] }>(await server.request(`/v1/recordings?callId=${d.callId}`, { apiKey: t.apiKey }), 200)).data;
    expect(recording).toMatchObject({ format: "wav", durationSeconds: 3 });
    const wavRes = await media(t, recording!.id);
    expect(wavRes.status).toBe(200);
    expect(wavRes.headers.get("content-type")).toBe("audio/wav");
    expect(Buffer.from(await wavRes.arrayBuffer()).equals(wav.bytes)).toBe(true);
  });

  it("deletes at the carrier, then here: the carrier's copy is gone, then the recording; twice is harmless", async () => {
    const t = await tenant();
    const r = await recordedCall(t);
    const keep = await recordedCall(t);
    const since = rest.requests.length;
    expect((await remove(t, r.recording.id)).status).toBe(204);
    const asked = carrierRequestsFor(r.carrierId, since);
    expect(asked.map((q) => `${q.method} ${q.path}`)).toEqual([`DELETE /api/v1/Account/${ACCOUNT.authId}/Recording/${r.carrierId}/`]);
    expectAccountHeaders(asked[0]!);
    expect(asked[0]!.status).toBe(204);
    expect(rest.recordings.has(r.carrierId)).toBe(false);

    await problem(await getRecording(t, r.recording.id), 404, "not_found");
    await problem(await media(t, r.recording.id), 404, "not_found");
    // Deleting it again reaches nothing at the carrier and fails nothing (the spec's "deleting twice is fine"): the
    // row is gone, so it answers like an id that never existed.
    const again = await remove(t, r.recording.id);
    expect([204, 404]).toContain(again.status);
    expect(carrierRequestsFor(r.carrierId, since)).toHaveLength(1);
    const list = await json<{ data: Recording[] }>(await server.request("/v1/recordings", { apiKey: t.apiKey }), 200);
    expect(list.data.map((x) => x.id)).toEqual([keep.recording.id]);
    expect(rest.recordings.has(keep.carrierId)).toBe(true);
    // The call it was of is still there.
    await json<Call>(await server.request(`/v1/calls/${r.callId}`, { apiKey: t.apiKey }), 200);
  });

  it("a carrier refusing the delete is 502 carrier_error, and the recording stays, here and there", async () => {
    const t = await tenant();
    const r = await recordedCall(t);
    rest.failNext(500, "storage backend down");
    const body = await problem(await remove(t, r.recording.id), 502, "carrier_error");
    expect(body.detail).toContain("storage backend down");
    expect(rest.recordings.has(r.carrierId)).toBe(true);
    expect(await json<Recording>(await getRecording(t, r.recording.id), 200)).toEqual(r.recording);
    expect((await media(t, r.recording.id)).status).toBe(200);
    // Once the carrier deletes it, so does Maskline.
    expect((await remove(t, r.recording.id)).status).toBe(204);
    expect(rest.recordings.has(r.carrierId)).toBe(false);
    expect((await getRecording(t, r.recording.id)).status).toBe(404);
  });

  it("media the carrier no longer has is 502 carrier_error; deleting it then succeeds (gone there counts as deleted)", async () => {
    const t = await tenant();
    const r = await recordedCall(t);
    rest.recordings.delete(r.carrierId);
    await problem(await media(t, r.recording.id), 502, "carrier_error");
    expect((await getRecording(t, r.recording.id)).status).toBe(200);
    expect((await remove(t, r.recording.id)).status).toBe(204);
    expect((await getRecording(t, r.recording.id)).status).toBe(404);
  });
});

describe("a call Maskline placed", () => {
  it("records too when its session records: notice, Record, Dial, then a recording of the placed call that streams", async () => {
    const t = await tenant();
    const o = await openSession(t, { recording: true });
    const placed = await json<Call>(
      await server.request(`/v1/sessions/${o.session.id}/calls`, { method: "POST", apiKey: t.apiKey, json: { participantId: o.session.participants[0]!.id } }),
      202,
    );
    const answered = await rest.answerPlacedCall(placed.callUuid!);
    expect(answered.problems).toEqual([]);
    expect(answered.verbs.map((v) => v.name)).toEqual(["Speak", "Record", "Dial"]);
    expect(answered.speak).toEqual([DEFAULT_MESSAGES.recordingNotice]);
    expect(answered.dial).toMatchObject({ numbers: [o.b], callerId: o.session.participants[1]!.proxyNumber });
    const done = await rest.completePlacedCall(placed.callUuid!, answered, { durationSeconds: 30 });
    expect(done.recording?.status).toBe(200);
    expect(done.hangup.status).toBe(200);

    const list = await json<{ data: Recording[] }>(await server.request(`/v1/recordings?callId=${placed.id}`, { apiKey: t.apiKey }), 200);
    expect(list.data).toHaveLength(1);
    expect(list.data[0]).toMatchObject({ callId: placed.id, sessionId: o.session.id, durationSeconds: 30 });
    const res = await media(t, list.data[0]!.id);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(rest.recordings.get(done.recording!.recordingId)!.bytes)).toBe(true);
    expect(await json<Call>(await server.request(`/v1/calls/${placed.id}`, { apiKey: t.apiKey }), 200)).toMatchObject({ status: "completed" });
  });
});

describe("the retention purge", () => {
  it("queues a recording.delete per recording past the tenant's retention; each deletes at the carrier, then here", async () => {
    const t = await tenant();
    expect((await server.request("/v1/settings", { method: "PATCH", apiKey: t.apiKey, json: { retentionDays: 1 } })).status).toBe(200);
    const other = await tenant();
    // Made two days ago (the server's clock set back): past a day's retention, within the default 90 days.
    const old = await inThePast(2 * DAY_MS, () => recordedCall(t));
    const othersOld = await inThePast(2 * DAY_MS, () => recordedCall(other));
    const fresh = await recordedCall(t);

    const purged = await purgeExpiredData(server.deps);
    expect(purged.recordings).toBeGreaterThanOrEqual(1);
    const jobs = await server.deps.db("jobs").where({ kind: "recording.delete" }).whereIn("tenant_id", [t.tenantId, other.tenantId]);
    expect(jobs.map((j: { payload: { recordingId: string } }) => j.payload.recordingId)).toEqual([old.recording.id]);
    // Queued, not done: the recording is still there, and so is its call (it waits for its recordings).
    expect((await getRecording(t, old.recording.id)).status).toBe(200);
    expect(rest.recordings.has(old.carrierId)).toBe(true);
    expect((await server.request(`/v1/calls/${old.callId}`, { apiKey: t.apiKey })).status).toBe(200);
    // Purging again queues nothing new.
    await purgeExpiredData(server.deps);
    expect(await server.deps.db("jobs").where({ kind: "recording.delete", tenant_id: t.tenantId })).toHaveLength(1);

    const since = rest.requests.length;
    runner = createJobRunner(server.deps, createJobRegistry([recordingDeleteJob]), { random: () => 0.5 });
    // The carrier is down at first: the job fails, to be retried, and the recording stays, there and here.
    rest.failNext(503, "maintenance");
    expect(await runner.runDue()).toBeGreaterThanOrEqual(1);
    expect(await server.deps.db("jobs").where({ id: jobs[0].id }).first()).toMatchObject({ status: "failed", attempts: 1 });
    expect(rest.recordings.has(old.carrierId)).toBe(true);
    expect((await getRecording(t, old.recording.id)).status).toBe(200);

    // Its retry, once due.
    clock.shift(60_000);
    try {
      expect(await runner.runDue()).toBeGreaterThanOrEqual(1);
    } finally {
      clock.reset();
    }
    const asked = carrierRequestsFor(old.carrierId, since);
    expect(asked.map((q) => `${q.method} ${q.path} ${q.status}`)).toEqual([
      `DELETE /api/v1/Account/${ACCOUNT.authId}/Recording/${old.carrierId}/ 503`,
      `DELETE /api/v1/Account/${ACCOUNT.authId}/Recording/${old.carrierId}/ 204`,
    ]);
    for (const q of asked) expectAccountHeaders(q);
    expect(rest.recordings.has(old.carrierId)).toBe(false);
    expect((await getRecording(t, old.recording.id)).status).toBe(404);
    const job = await server.deps.db("jobs").where({ id: jobs[0].id }).first();
    expect(job.status).toBe("succeeded");

    // The rest is untouched: this tenant's recent recording, and the other tenant's (longer retention).
    for (const [who, r] of [[t, fresh], [other, othersOld]] as const) {
      expect((await getRecording(who, r.recording.id)).status).toBe(200);
      expect(rest.recordings.has(r.carrierId)).toBe(true);
    }
    // With its recording gone, the old call is purged like any other.
    await purgeExpiredData(server.deps);
    expect((await server.request(`/v1/calls/${old.callId}`, { apiKey: t.apiKey })).status).toBe(404);
    expect((await server.request(`/v1/calls/${othersOld.callId}`, { apiKey: other.apiKey })).status).toBe(200);
  });
});

describe("tenant isolation", () => {
  it("another tenant gets 404 on get, media and delete, never sees the recording in a list, and nothing reaches the carrier", async () => {
    const owner = await tenant();
    const intruder = await tenant();
    const r = await recordedCall(owner);
    const since = rest.requests.length;
    await expectInvisibleToOtherTenant(server, intruder.apiKey, [
      { method: "GET", path: `/v1/recordings/${r.recording.id}` },
      { method: "GET", path: `/v1/recordings/${r.recording.id}/media` },
      { method: "DELETE", path: `/v1/recordings/${r.recording.id}` },
      // The same answers as for one that never existed.
      { method: "GET", path: `/v1/recordings/rec_${randomUUID().replace(/-/g, "").slice(0, 26)}` },
    ]);
    for (const query of ["", `?sessionId=${r.opened.session.id}`, `?callId=${r.callId}`]) {
      await expectNotListed(server, intruder.apiKey, `/v1/recordings${query}`, [r.recording.id]);
    }
    expect(rest.requests.slice(since)).toEqual([]);
    expect(rest.recordings.has(r.carrierId)).toBe(true);
    expect(await json<Recording>(await getRecording(owner, r.recording.id), 200)).toEqual(r.recording);
  });
});
