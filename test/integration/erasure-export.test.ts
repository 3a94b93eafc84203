/**
 * Erasing a person and exporting what is held about one (docs/privacy.md): after an erasure no dump of the database
 * or of Redis holds the number, its blind index or a ciphertext that decrypts to it; the person can no longer be
 * routed; the other people of their sessions keep their own data and can still be reached and exported; an export
 * lists one person's sessions and calls and never another person's number. Every route is the tenant's own.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/harness.js";
import { createTestClock } from "../support/clock.js";
import { expectNoRealNumbers } from "../support/privacy.js";
import { expectInvisibleToOtherTenant, expectNotListed, problemOf } from "../support/isolation.js";
import { residueOf } from "../support/residue.js";
import { AUTH_TOKEN, createSession, people, tenantWithPool, type Schemas, type TenantFixture } from "../support/fixtures.js";
import { VobizSimulator } from "../sim/vobiz-simulator.js";
import { VobizRestServer } from "../sim/vobiz-rest-server.js";
import { createJobRunner, type JobRunner } from "../../server/src/jobs/runner.js";
import { createJobRegistry } from "../../server/src/jobs/kinds.js";
import { eraseJob, exportJob } from "../../server/src/jobs/privacy.js";
import { recordingDeleteJob } from "../../server/src/jobs/recording-delete.js";
import { ERASURE_RECHECK_MS } from "../../server/src/services/erasures.js";
import { maskNumber } from "../../server/src/phone/numbers.js";

type Session = Schemas["Session"];
type Erasure = Schemas["Erasure"];
type Export = Schemas["Export"];

const clock = createTestClock();
let server: TestServer;
let rest: VobizRestServer;
let runner: JobRunner;
const realNumbers: string[] = [];

beforeAll(async () => {
  rest = await VobizRestServer.start({ accounts: [{ authId: "MA_TEST", authToken: AUTH_TOKEN }] });
  server = await startTestServer({ clock, env: { VOBIZ_API_BASE_URL: rest.baseUrl } });
  runner = createJobRunner(server.deps, createJobRegistry([eraseJob, exportJob, recordingDeleteJob]), { random: () => 0.5 });
});
afterAll(async () => {
  await runner?.stop();
  await server?.stop();
  await rest?.close();
});

async function json<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return JSON.parse(text) as T;
}

async function open(t: TenantFixture, numbers: string[], body: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Session> {
  realNumbers.push(...numbers);
  return json<Session>(await createSession(server, t.apiKey, { participants: numbers.map((number) => ({ number })), ...body }, headers), 201);
}

const simFor = (t: TenantFixture) => new VobizSimulator({ authToken: AUTH_TOKEN, answerUrl: t.app.answerUrl, hangupUrl: t.app.hangupUrl });

/** Runs the privacy jobs until the erasure (or export) says it is done, moving the clock past each recheck. */
async function settle(t: TenantFixture, path: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 6; i++) {
    await runner.runDue();
    const now = await json<{ status: string }>(await server.request(path, { apiKey: t.apiKey }), 200);
    if (now.status === "completed" || now.status === "failed") return now as Record<string, unknown>;
    clock.shift(ERASURE_RECHECK_MS + 1_000);
  }
  throw new Error(`${path} did not complete`);
}

async function erase(t: TenantFixture, number: string): Promise<Erasure> {
  const accepted = await json<Erasure>(await server.request("/v1/erasures", { method: "POST", apiKey: t.apiKey, json: { number } }), 202);
  expect(accepted).toMatchObject({ status: "pending", counts: null, completedAt: null });
  return (await settle(t, `/v1/erasures/${accepted.id}`)) as unknown as Erasure;
}

async function exportOf(t: TenantFixture, number: string): Promise<Export> {
  const accepted = await json<Export>(await server.request("/v1/exports", { method: "POST", apiKey: t.apiKey, json: { number } }), 202);
  expect(accepted).toMatchObject({ status: "pending", result: null });
  return (await settle(t, `/v1/exports/${accepted.id}`)) as unknown as Export;
}

describe("erasing a person", () => {
  it("leaves no trace of the number anywhere, closes their sessions, and keeps the other people's data", async () => {
    const t = await tenantWithPool(server, { dids: 3 });
    const [alice, bob, carol, dave] = people(4);
    const recorded = await open(t, [alice!, bob!], { recording: true, metadata: { phone: alice!, note: `call ${alice!.slice(3)} after 6` }, reference: `rider ${alice!.slice(1)}` });
    const other = await open(t, [alice!, carol!], {}, { "Idempotency-Key": `erase-idem-${Date.now()}` });
    const unrelated = await open(t, [bob!, dave!]);
    const sim = simFor(t);

    // Calls both ways (the stored replies name the number dialled), one of them recorded at the carrier.
    const aliceCalls = await sim.placeCall({ from: alice!, to: recorded.participants[0]!.proxyNumber });
    expect(aliceCalls.dial?.numbers).toEqual([bob]);
    await sim.postRecording(aliceCalls, rest);
    await sim.completeCall(aliceCalls, { dialStatus: "completed", durationSeconds: 20 });
    const bobCalls = await sim.placeCall({ from: bob!, to: recorded.participants[1]!.proxyNumber });
    expect(bobCalls.dial?.numbers).toEqual([alice]);
    await sim.completeCall(bobCalls, { dialStatus: "completed", durationSeconds: 5 });
    const recordings = await json<{ data: Schemas["Recording"][] }>(await server.request(`/v1/recordings?sessionId=${recorded.id}`, { apiKey: t.apiKey }), 200);
    expect(recordings.data).toHaveLength(1);
    const carrierCopy = [...rest.recordings.keys()].at(-1)!;
    // An earlier access request about her.
    expect((await exportOf(t, alice!)).result!.sessions).toHaveLength(2);
    expect(await residueOf(server, alice!)).not.toEqual([]);

    const done = await erase(t, alice!);
    expect(done).toMatchObject({ status: "completed" });
    expect(done.counts).toMatchObject({ participants: 2, sessionsClosed: 2, recordings: 1, exports: 1, idempotencyKeys: 1 });
    expect(done.counts!.calls).toBeGreaterThanOrEqual(2);
    expect(done.counts!.events).toBeGreaterThanOrEqual(4);
    expect(JSON.stringify(done)).not.toContain(alice!.slice(3));

    // Nothing the service holds can reveal her number.
    expect(await residueOf(server, alice!)).toEqual([]);
    expect(rest.recordings.has(carrierCopy)).toBe(false);
    expect(await json(await server.request(`/v1/recordings?sessionId=${recorded.id}`, { apiKey: t.apiKey }), 200)).toEqual({ data: [], nextCursor: null });

    // Her sessions are closed and show her as erased; the others keep their own data.
    for (const s of [recorded, other]) {
      const read = await json<Session>(await server.request(`/v1/sessions/${s.id}`, { apiKey: t.apiKey }), 200);
      expect(read.status).toBe("closed");
      expect(read.participants[0]!.maskedNumber).toBeNull();
      expect(read.participants[1]!.maskedNumber).toBe(maskNumber(s === recorded ? bob! : carol!));
      expect(JSON.stringify(read)).not.toContain(maskNumber(alice!));
      expect(JSON.stringify(read)).not.toContain(alice!.slice(4));
    }
    expect((await json<Session>(await server.request(`/v1/sessions/${unrelated.id}`, { apiKey: t.apiKey }), 200)).status).toBe("open");
    // The events that were about her sessions and calls are gone; those of the closing carry no number of hers.
    const events = await server.request("/v1/events?limit=100", { apiKey: t.apiKey });
    const eventsText = await events.text();
    expect(eventsText).not.toContain(maskNumber(alice!));
    expect(eventsText).not.toContain(alice!.slice(4));

    // She can no longer be routed; Bob still reaches Dave, and is still exported by his own number.
    const after = await sim.placeCall({ from: alice!, to: recorded.participants[0]!.proxyNumber });
    expect(after.kind).toBe("reject");
    const bobToDave = await sim.placeCall({ from: bob!, to: unrelated.participants[0]!.proxyNumber });
    expect(bobToDave.dial?.numbers).toEqual([dave]);
    const bobs = await exportOf(t, bob!);
    expect(bobs.result!.sessions.map((s) => s.id).sort()).toEqual([recorded.id, unrelated.id].sort());
    expect(JSON.stringify(bobs)).not.toContain(maskNumber(alice!));

    // Erasing her again finds nothing, harmlessly.
    const again = await erase(t, alice!);
    expect(again.counts).toEqual({ participants: 0, sessionsClosed: 0, calls: 0, recordings: 0, events: 0, idempotencyKeys: 0, pinLockouts: 0, exports: 0 });
    expectNoRealNumbers(server.logs.join(""), realNumbers);
  });

  it("erases the number in one tenant only: another tenant's sessions with the same person are untouched", async () => {
    const mine = await tenantWithPool(server, { dids: 2 });
    const theirs = await tenantWithPool(server, { dids: 2 });
    const [person, a, b] = people(3);
    await open(mine, [person!, a!]);
    const kept = await open(theirs, [person!, b!]);
    await erase(mine, person!);
    const read = await json<Session>(await server.request(`/v1/sessions/${kept.id}`, { apiKey: theirs.apiKey }), 200);
    expect(read).toMatchObject({ status: "open" });
    expect(read.participants[0]!.maskedNumber).toBe(maskNumber(person!));
    const call = await simFor(theirs).placeCall({ from: person!, to: kept.participants[0]!.proxyNumber });
    expect(call.dial?.numbers).toEqual([b]);
  });

  it("refuses a number that is not one, and keeps erasures and exports to their tenant", async () => {
    const t = await tenantWithPool(server, { dids: 2 });
    const intruder = await server.createTenant();
    for (const number of ["12", "not a number", "+1"]) {
      const res = await server.request("/v1/erasures", { method: "POST", apiKey: t.apiKey, json: { number } });
      expect(res.status, number).toBe(422);
      expect((await problemOf(res)).errors?.map((e) => e.path)).toContain("/body/number");
    }
    const [who] = people(1);
    const erasure = await erase(t, who!);
    const exported = await exportOf(t, who!);
    await expectInvisibleToOtherTenant(server, intruder.apiKey, [
      { method: "GET", path: `/v1/erasures/${erasure.id}` },
      { method: "GET", path: `/v1/exports/${exported.id}` },
    ]);
    await expectNotListed(server, intruder.apiKey, "/v1/erasures", [erasure.id]);
    const listed = await json<{ data: Erasure[] }>(await server.request("/v1/erasures", { apiKey: t.apiKey }), 200);
    expect(listed.data.map((e) => e.id)).toContain(erasure.id);
  });
});

describe("exporting a person", () => {
  it("lists their sessions and calls with their own masked number, and no one else's number", async () => {
    const t = await tenantWithPool(server, { dids: 2 });
    const [eve, frank, grace] = people(3);
    const s1 = await open(t, [eve!, frank!], { reference: "order-1" });
    const s2 = await open(t, [grace!, eve!]);
    const sim = simFor(t);
    const out = await sim.placeCall({ from: eve!, to: s1.participants[0]!.proxyNumber });
    await sim.completeCall(out, { dialStatus: "completed", durationSeconds: 12 });
    const inbound = await sim.placeCall({ from: grace!, to: s2.participants[0]!.proxyNumber });
    await sim.completeCall(inbound, { dialStatus: "completed", durationSeconds: 3 });

    const exported = await exportOf(t, eve!.slice(3)); // a national number, read as the request's country (IN)
    const result = exported.result!;
    expect(result.maskedNumber).toBe(maskNumber(eve!));
    expect(result.sessions.map((s) => [s.id, s.participantId])).toEqual(
      [[s1.id, s1.participants[0]!.id], [s2.id, s2.participants[1]!.id]].sort(),
    );
    expect(result.sessions.find((s) => s.id === s1.id)).toMatchObject({ reference: "order-1", proxyNumber: s1.participants[0]!.proxyNumber });
    expect(result.calls.map((c) => c.role).sort()).toEqual(["callee", "caller"]);
    expect(result.calls.find((c) => c.role === "caller")).toMatchObject({ sessionId: s1.id, decision: "bridged", durationSeconds: 12 });
    const text = JSON.stringify(exported);
    expectNoRealNumbers(text, [eve!, frank!, grace!]);
    for (const other of [frank!, grace!]) expect(text).not.toContain(maskNumber(other));
    // Stored encrypted: the row holds no readable result.
    const row = await server.deps.db("exports").where({ tenant_id: t.tenantId, id: exported.id }).first();
    expect(row.result_enc).toMatch(/^v1\./);
  });
});
