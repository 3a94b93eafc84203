/**
 * Single-number PIN sessions (docs/call-flows.md, "PIN sessions"), end to end through the carrier simulator: both
 * participants on one DID, each with a PIN shown once; a caller keys a PIN after a prompt and is bridged only from
 * the registered number of that PIN's participant; wrong PINs are retried within the call and lock the caller out
 * of the DID after three in 15 minutes, across replicas and under parallel attempts; PINs appear in no log, later
 * response or event.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, usingRealServices, type TestServer } from "../support/harness.js";
import { createTestClock } from "../support/clock.js";
import { expectNoRealNumbers } from "../support/privacy.js";
import { expectInvisibleToOtherTenant } from "../support/isolation.js";
import { AUTH_TOKEN, createSession, people, tenantWithPool, type Schemas, type TenantFixture } from "../support/fixtures.js";
import { VobizSimulator, type CallResult } from "../sim/vobiz-simulator.js";
import { SCHEMA_FALLBACKS } from "../../openapi/generated/constants.js";

type Session = Schemas["Session"];
type Call = Schemas["Call"];
type Event = { id: string; type: string; data: Record<string, unknown> };

const clock = createTestClock();
let server: TestServer;
/** A second replica on the same Postgres and Redis (on the embedded database, the same server: one process only). */
let replica: TestServer;
const realNumbers: string[] = [];
const pinsShown: string[] = [];

beforeAll(async () => {
  server = await startTestServer({ clock });
  replica = usingRealServices.postgres ? await startTestServer({ clock }) : server;
});
afterAll(async () => {
  if (replica !== server) await replica?.stop();
  await server?.stop();
});

async function json<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return JSON.parse(text) as T;
}

async function openPin(t: TenantFixture, body: Record<string, unknown> = {}, numbers = people(2)): Promise<Session> {
  realNumbers.push(...numbers);
  const session = await json<Session>(
    await createSession(server, t.apiKey, { routing: "pin", participants: numbers.map((number) => ({ number })), ...body }),
    201,
  );
  for (const p of session.participants) if (p.pin) pinsShown.push(p.pin);
  return session;
}

const simFor = (t: TenantFixture, on: TestServer = server) =>
  new VobizSimulator({
    authToken: AUTH_TOKEN,
    answerUrl: t.app.answerUrl.replace(server.baseUrl, on.baseUrl),
    hangupUrl: t.app.hangupUrl.replace(server.baseUrl, on.baseUrl),
  });

/** A call to the PIN DID from `from`, then the digits keyed at each prompt in turn; the last reply. */
async function callAndKey(sim: VobizSimulator, from: string, did: string, ...digits: string[]): Promise<{ first: CallResult; last: CallResult; replies: CallResult[] }> {
  const first = await sim.placeCall({ from, to: did });
  let last = first;
  const replies = [first];
  for (const d of digits) {
    last = await sim.enterDigits(last, d);
    replies.push(last);
  }
  return { first, last, replies };
}

const wrongPin = (pin: string) => pin.split("").map((d) => String((Number(d) + 5) % 10)).join("");

async function callRecord(t: TenantFixture, callUuid: string): Promise<Call> {
  const page = await json<{ data: Call[] }>(await server.request("/v1/calls?limit=100", { apiKey: t.apiKey }), 200);
  const call = page.data.find((c) => c.callUuid === callUuid);
  expect(call, `call ${callUuid}`).toBeDefined();
  return call!;
}

async function eventsOf(t: TenantFixture, type: string): Promise<Event[]> {
  return (await json<{ data: Event[] }>(await server.request(`/v1/events?type=${type}&limit=100`, { apiKey: t.apiKey }), 200)).data;
}

describe("creating a PIN session", () => {
  it("puts both participants on one DID with a PIN each of the tenant's length, shown on create only", async () => {
    const t = await tenantWithPool(server, { dids: 3 });
    const session = await openPin(t);
    expect(session).toMatchObject({ routing: "pin", status: "open" });
    const [a, b] = session.participants;
    expect(a!.proxyNumber).toBe(b!.proxyNumber);
    expect(a!.pin).toMatch(/^\d{6}$/);
    expect(b!.pin).toMatch(/^\d{6}$/);
    expect(a!.pin).not.toBe(b!.pin);

    const read = await json<Session>(await server.request(`/v1/sessions/${session.id}`, { apiKey: t.apiKey }), 200);
    expect(read.participants.every((p) => p.pin === undefined)).toBe(true);
    const listed = await server.request(`/v1/sessions?limit=100`, { apiKey: t.apiKey });
    const text = await listed.text();
    for (const pin of [a!.pin!, b!.pin!]) expect(text).not.toContain(pin);
    const [created] = await eventsOf(t, "session.created");
    expect(JSON.stringify(created)).not.toContain(a!.pin!);
    expect(JSON.stringify(created)).not.toContain(b!.pin!);
    // Stored only as keyed hashes.
    const rows = await server.deps.db("participants").where({ tenant_id: t.tenantId, session_id: session.id }).select("pin_hash");
    expect(rows.map((r: { pin_hash: string }) => r.pin_hash).every((h) => /^[0-9a-f]{64}$/.test(h) && h !== a!.pin && h !== b!.pin)).toBe(true);
  });

  it("uses the tenant's PIN length (4–8) for new sessions, and refuses a length outside it", async () => {
    const t = await tenantWithPool(server, { dids: 1 });
    expect(await json(await server.request("/v1/settings", { method: "PATCH", apiKey: t.apiKey, json: { pinLength: 4 } }), 200)).toMatchObject({ pinLength: 4 });
    const session = await openPin(t);
    expect(session.participants.map((p) => p.pin!.length)).toEqual([4, 4]);
    for (const pinLength of [3, 9, 5.5]) {
      const res = await server.request("/v1/settings", { method: "PATCH", apiKey: t.apiKey, json: { pinLength } });
      expect(res.status, String(pinLength)).toBe(422);
    }
  });

  it("keeps PINs unique among a DID's live sessions, also for creates racing on one DID", async () => {
    const t = await tenantWithPool(server, { dids: 1 });
    await server.request("/v1/settings", { method: "PATCH", apiKey: t.apiKey, json: { pinLength: 4 } });
    const sessions = await Promise.all(Array.from({ length: 24 }, () => openPin(t)));
    const pins = sessions.flatMap((s) => s.participants.map((p) => p.pin!));
    expect(new Set(pins).size).toBe(pins.length);
    expect(new Set(sessions.map((s) => s.participants[0]!.proxyNumber)).size).toBe(1);
    // The same person may be in many PIN sessions on the one DID (they are routed by PIN, not by who calls).
    const [same] = people(1);
    const again = await Promise.all([openPin(t, {}, [same!, people(1)[0]!]), openPin(t, {}, [same!, people(1)[0]!])]);
    expect(again.every((s) => s.status === "open")).toBe(true);
  });

  it("reports the pool's PIN sessions and how many its PIN space carries", async () => {
    const t = await tenantWithPool(server, { dids: 2, pool: "pins" });
    await server.request("/v1/settings", { method: "PATCH", apiKey: t.apiKey, json: { pinLength: 4 } });
    await openPin(t, { pool: "pins" });
    await openPin(t, { pool: "pins" });
    const pool = await json<Schemas["Pool"]>(await server.request("/v1/pools/pins", { apiKey: t.apiKey }), 200);
    expect(pool).toMatchObject({ numbers: 2, pinSessions: 2, pinCapacity: 2 * 5_000, pinHeadroom: 2 * 5_000 - 2, activeSessions: 0 });
  });
});

describe("calling a PIN DID", () => {
  it("asks for the PIN without logging it, bridges the registered caller to the other party on the shared DID, and says call.started then", async () => {
    const t = await tenantWithPool(server, { dids: 1 });
    const [alice, bob] = people(2);
    const session = await openPin(t, {}, [alice!, bob!]);
    const did = session.participants[0]!.proxyNumber;
    const sim = simFor(t);
    const prompt = await sim.placeCall({ from: alice!, to: did });
    expect(prompt.kind).toBe("other");
    expect(prompt.problems).toEqual([]);
    expect(prompt.gather).toMatchObject({ numDigits: 6, log: false, inputType: "dtmf", prompt: SCHEMA_FALLBACKS.AppMessages.pinPrompt });
    expect(prompt.gather!.action).toContain("/pin?");
    // Pending while the digits are awaited: no call.started yet.
    expect((await callRecord(t, prompt.callUuid)).decision).toBe("pending");
    expect((await eventsOf(t, "call.started")).length).toBe(0);

    const bridged = await sim.enterDigits(prompt, session.participants[0]!.pin!);
    expect(bridged.kind).toBe("dial");
    expect(bridged.dial).toMatchObject({ callerId: did, numbers: [bob] });
    const call = await callRecord(t, prompt.callUuid);
    expect(call).toMatchObject({ decision: "bridged", sessionId: session.id, fromParticipantId: session.participants[0]!.id, toParticipantId: session.participants[1]!.id });
    const started = await eventsOf(t, "call.started");
    expect(started.map((e) => (e.data as Call).decision)).toEqual(["bridged"]);

    // The other way round, with the other PIN.
    const back = await callAndKey(sim, bob!, did, session.participants[1]!.pin!);
    expect(back.last.dial).toMatchObject({ callerId: did, numbers: [alice] });
    // The carrier's retry of the digits callback gets the same reply and judges nothing twice.
    const retried = await sim.enterDigits(prompt, session.participants[0]!.pin!);
    expect(retried.xml).toBe(bridged.xml);
  });

  it("refuses a stranger who keys a right PIN, and a participant who keys the other one's PIN", async () => {
    const t = await tenantWithPool(server, { dids: 1 });
    const [alice, bob, mallory] = people(3);
    const session = await openPin(t, {}, [alice!, bob!]);
    const did = session.participants[0]!.proxyNumber;
    const sim = simFor(t);
    const stranger = await callAndKey(sim, mallory!, did, session.participants[0]!.pin!);
    expect(stranger.last.kind).toBe("other"); // asked again, never dialled
    expect(stranger.last.speak).toContain(SCHEMA_FALLBACKS.AppMessages.pinRetry);
    const swapped = await callAndKey(sim, alice!, did, session.participants[1]!.pin!);
    expect(swapped.last.kind).not.toBe("dial");
  });

  it("asks again after a wrong PIN or no input, and ends the call politely after the third try", async () => {
    const t = await tenantWithPool(server, { dids: 1 });
    const [alice, bob] = people(2);
    const session = await openPin(t, {}, [alice!, bob!]);
    const did = session.participants[0]!.proxyNumber;
    const sim = simFor(t);
    const { replies } = await callAndKey(sim, alice!, did, "", wrongPin(session.participants[0]!.pin!), session.participants[0]!.pin!);
    expect(replies.map((r) => r.kind)).toEqual(["other", "other", "other", "dial"]);
    expect(replies.map((r) => r.gather?.action?.match(/a=(\d)/)?.[1] ?? null)).toEqual(["1", "2", "3", null]);

    const out = await callAndKey(sim, bob!, did, "", "", "");
    expect(out.last.kind).toBe("reject");
    expect(out.last.speak).toEqual([SCHEMA_FALLBACKS.AppMessages.pinLocked]);
    expect((await callRecord(t, out.first.callUuid)).decision).toBe("rejected_wrong_pin");
  });

  it("refuses a closed or expired session's PIN, and the other side of a one-way session", async () => {
    const t = await tenantWithPool(server, { dids: 1 });
    const sim = simFor(t);
    const [a1, b1] = people(2);
    const closed = await openPin(t, {}, [a1!, b1!]);
    await json(await server.request(`/v1/sessions/${closed.id}/close`, { method: "POST", apiKey: t.apiKey }), 200);
    const [a2, b2] = people(2);
    clock.shift(-3600_000 - 60_000);
    const lapsed = await openPin(t, {}, [a2!, b2!]).finally(() => clock.reset());
    const [a3, b3] = people(2);
    const oneWay = await openPin(t, { mode: "one_way" }, [a3!, b3!]);
    const keep = await openPin(t); // keeps the DID a PIN DID once the closed session's rows are released
    void keep;

    const afterClose = await callAndKey(sim, a1!, closed.participants[0]!.proxyNumber, closed.participants[0]!.pin!);
    expect(afterClose.last.kind).not.toBe("dial");
    const afterExpiry = await callAndKey(sim, a2!, lapsed.participants[0]!.proxyNumber, lapsed.participants[0]!.pin!);
    expect(afterExpiry.last.kind).toBe("reject");
    expect((await callRecord(t, afterExpiry.first.callUuid)).decision).toBe("rejected_session_expired");
    const wrongSide = await callAndKey(sim, b3!, oneWay.participants[1]!.proxyNumber, oneWay.participants[1]!.pin!);
    expect(wrongSide.last.kind).toBe("reject");
    expect((await callRecord(t, wrongSide.first.callUuid)).decision).toBe("rejected_one_way");
    const rightSide = await callAndKey(sim, a3!, oneWay.participants[0]!.proxyNumber, oneWay.participants[0]!.pin!);
    expect(rightSide.last.dial?.numbers).toEqual([b3]);
  });
});

describe("the PIN lockout", () => {
  it(`locks a caller out of the DID after three wrong PINs in 15 minutes, ${usingRealServices.postgres ? "across two replicas" : "on the one server"}, without locking anyone else out`, async () => {
    const t = await tenantWithPool(server, { dids: 1 });
    const [alice, bob, mallory] = people(3);
    const session = await openPin(t, {}, [alice!, bob!]);
    const did = session.participants[0]!.proxyNumber;
    const right = session.participants[0]!.pin!;
    const here = simFor(t, server);
    const there = simFor(t, replica);
    // Two wrong PINs on one replica, the third on the other.
    await callAndKey(here, mallory!, did, wrongPin(right));
    await callAndKey(here, mallory!, did, wrongPin(wrongPin(right)));
    const third = await callAndKey(there, mallory!, did, "0".repeat(6));
    expect(third.last.kind).toBe("reject");
    expect((await callRecord(t, third.first.callUuid)).decision).toBe("rejected_pin_locked");
    // Locked on both replicas, for a right PIN too (the caller cannot keep guessing).
    for (const sim of [here, there]) {
      const locked = await callAndKey(sim, mallory!, did, right);
      expect(locked.last.kind).toBe("reject");
      expect(locked.last.speak).toEqual([SCHEMA_FALLBACKS.AppMessages.pinLocked]);
    }
    // Alice is not locked out by Mallory's guessing.
    expect((await callAndKey(here, alice!, did, right)).last.kind).toBe("dial");
    // 15 minutes later Mallory may try again.
    clock.shift(15 * 60_000 + 1_000);
    try {
      expect((await callAndKey(there, mallory!, did, wrongPin(right))).last.kind).toBe("other");
    } finally {
      clock.reset();
    }
  });

  it("counts wrong PINs exactly when one caller's attempts race: the fourth and fifth of five parallel calls find the caller locked", async () => {
    const t = await tenantWithPool(server, { dids: 1 });
    const [alice, bob, mallory] = people(3);
    const session = await openPin(t, {}, [alice!, bob!]);
    const did = session.participants[0]!.proxyNumber;
    const sims = [simFor(t, server), simFor(t, replica)];
    const prompts = await Promise.all(Array.from({ length: 5 }, (_, i) => sims[i % 2]!.placeCall({ from: mallory!, to: did })));
    const keyed = await Promise.all(prompts.map((p, i) => sims[i % 2]!.enterDigits(p, wrongPin(session.participants[0]!.pin!))));
    // Two were asked again (first and second wrong PIN), one was locked by its own (the third) and two found the lock.
    expect(keyed.filter((r) => r.kind === "other")).toHaveLength(2);
    expect(keyed.filter((r) => r.kind === "reject")).toHaveLength(3);
    const decisions = await Promise.all(prompts.map(async (p) => (await callRecord(t, p.callUuid)).decision));
    expect(decisions.filter((d) => d === "rejected_pin_locked")).toHaveLength(3);
  });
});

describe("privacy and isolation", () => {
  it("never shows a PIN or a real number in a log line, and another tenant cannot reach a PIN session", async () => {
    const t = await tenantWithPool(server, { dids: 1 });
    const session = await openPin(t);
    const other = await server.createTenant();
    await expectInvisibleToOtherTenant(server, other.apiKey, [
      { method: "GET", path: `/v1/sessions/${session.id}` },
      { method: "POST", path: `/v1/sessions/${session.id}/close` },
    ]);
    const logs = server.logs.join("") + (replica === server ? "" : replica.logs.join(""));
    expectNoRealNumbers(logs, realNumbers);
    expect(pinsShown.length).toBeGreaterThan(20);
    // Every value of every log line, bar the clock's (a 4-digit PIN is bound to turn up inside a timestamp).
    const values = logs
      .split("\n")
      .filter(Boolean)
      .flatMap((line) => leaves(JSON.parse(line) as unknown, ["time", "ms"]));
    for (const pin of pinsShown) {
      expect(values.filter((v) => new RegExp(`(^|[^0-9a-zA-Z])${pin}([^0-9a-zA-Z]|$)`).test(withoutIds(v))), `PIN ${pin} in the logs`).toEqual([]);
    }
  });
});

/** A log value without the UUIDs in it (request ids, CallUUIDs), whose digit groups a 4-digit PIN may equal. */
const withoutIds = (v: string) => v.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, "");

/** The string and number values of a parsed log line, except those under the given keys. */
function leaves(value: unknown, skip: string[]): string[] {
  if (typeof value === "string" || typeof value === "number") return [String(value)];
  if (Array.isArray(value)) return value.flatMap((v) => leaves(v, skip));
  if (value && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) => (skip.includes(k) ? [] : leaves(v, skip)));
  }
  return [];
}
