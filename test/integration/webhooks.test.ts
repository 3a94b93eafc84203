/**
 * The carrier webhooks end to end: the Vobiz simulator plays the carrier (signed requests, real XML parsing) against
 * a server that believes it lives at PUBLIC_BASE_URL behind a proxy. The simulator requests the public URLs the app
 * registration handed out; a tiny "proxy" (carrierFetch) forwards them to the test socket, so the Host the server
 * sees is not the host that was signed, exactly as behind a TLS-terminating load balancer.
 */
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectNoRealNumbers } from "../support/privacy.js";
import { startTestServer, type TestServer } from "../support/harness.js";
import { problemOf } from "../support/isolation.js";
import { AUTH_TOKEN, createSession, people, tenantWithPool, type TenantFixture } from "../support/fixtures.js";
import { VobizSimulator, type CallResult } from "../sim/vobiz-simulator.js";
import { parseVobizXml } from "../sim/vobiz-xml.js";
import { DEFAULT_MESSAGES } from "../../server/src/domain/call-decision.js";
import { createTestClock } from "../support/clock.js";

const PUBLIC_BASE_URL = "https://masking.example.test";

interface Session {
  id: string;
  participants: Array<{ id: string; proxyNumber: string }>;
}

let server: TestServer;
const realNumbersSeen: string[] = [];
/** Expiry without sleeping: a session opened with this clock set back has expired once it is reset. */
const clock = createTestClock();

/** The proxy in front of `target`: the carrier calls public URLs; they land on the test socket. */
function carrierFetch(target: TestServer): typeof fetch {
  return (input, init) => {
    const url = String(input);
    if (!url.startsWith(PUBLIC_BASE_URL + "/")) throw new Error(`the carrier was given a non-public URL: ${url}`);
    return fetch(target.baseUrl + url.slice(PUBLIC_BASE_URL.length), init);
  };
}

beforeAll(async () => {
  server = await startTestServer({ env: { PUBLIC_BASE_URL }, clock });
});
afterAll(async () => {
  // Privacy: no real number, in any format, in any log line of this file's traffic.
  const logs = server.logs.join("");
  expectNoRealNumbers(logs, realNumbersSeen);
  await server?.stop();
});

/** A real number as it might appear: +E.164, without the +, national (10 digits). */

interface World {
  t: TenantFixture;
  a: string;
  b: string;
  session: Session;
  /** The DID each participant dials (participants[i].proxyNumber). */
  dA: string;
  dB: string;
  sim: VobizSimulator;
}

async function world(
  target: TestServer,
  opts: { app?: Record<string, unknown>; mode?: "two_way" | "one_way"; ttlSeconds?: number; sim?: Partial<ConstructorParameters<typeof VobizSimulator>[0]> } = {},
): Promise<World> {
  const t = await tenantWithPool(target, { dids: 2, app: opts.app });
  const [a, b] = people(2) as [string, string];
  realNumbersSeen.push(a, b);
  const res = await createSession(target, t.apiKey, {
    participants: [{ number: a, label: "agent" }, { number: b, label: "customer" }],
    mode: opts.mode ?? "two_way",
    ...(opts.ttlSeconds ? { ttlSeconds: opts.ttlSeconds } : {}),
  });
  expect(res.status).toBe(201);
  const session = (await res.json()) as Session;
  const sim = new VobizSimulator({ authToken: AUTH_TOKEN, answerUrl: t.app.answerUrl, fetch: carrierFetch(target), ...opts.sim });
  return { t, a, b, session, dA: session.participants[0]!.proxyNumber, dB: session.participants[1]!.proxyNumber, sim };
}

// Every answered call's row is committed before its reply, so the table can be read directly.
async function callRows(target: TestServer, tenantId: string) {
  return target.deps.db("calls").where({ tenant_id: tenantId }).orderBy("id");
}

async function rowFor(tenantId: string, callUuid: string) {
  return server.deps.db("calls").where({ tenant_id: tenantId, call_uuid: callUuid }).first();
}

function expectDial(call: CallResult, number: string, callerId: string) {
  expect(call.status).toBe(200);
  expect(call.contentType).toMatch(/^application\/xml/);
  expect(call.kind, call.xml).toBe("dial");
  expect(call.problems).toEqual([]);
  expect(call.dial?.numbers).toEqual([number]);
  expect(call.dial?.callerId).toBe(callerId);
}

function expectRejected(call: CallResult, message: string) {
  expect(call.status).toBe(200);
  expect(call.contentType).toMatch(/^application\/xml/);
  expect(call.kind, call.xml).toBe("reject");
  expect(call.problems).toEqual([]);
  expect(call.dial).toBeUndefined();
  expect(call.xml).not.toContain("<Dial");
  expect(call.hangupReason).toBe("rejected");
  expect(call.speak).toEqual([message]);
}

async function expectForbidden(res: { status: number; body: string; contentType: string }) {
  expect(res.status).toBe(403);
  expect(res.contentType).toMatch(/^application\/problem\+json/);
  expect(JSON.parse(res.body)).toMatchObject({ status: 403, code: "forbidden" });
}

async function setMessages(w: World, messages: Record<string, string>) {
  const res = await server.request(`/v1/apps/${w.t.app.id}`, { method: "PATCH", apiKey: w.t.apiKey, json: { messages } });
  expect(res.status).toBe(200);
}

describe("bridging", () => {
  it("connects a two-way session both ways; each person always sees the other's one masking number", async () => {
    const w = await world(server, { app: { ringTimeoutSeconds: 25 } });
    expect(w.dA).not.toBe(w.dB);

    const aCalls = await w.sim.placeCall({ from: w.a, to: w.dA });
    expectDial(aCalls, w.b, w.dB);
    expect(aCalls.dial).toMatchObject({ timeout: 25, action: w.t.app.dialStatusUrl, method: "POST", redirect: "false" });
    expect(aCalls.dial?.action?.startsWith(`${PUBLIC_BASE_URL}/v1/vobiz/${w.t.app.id}/dial-status?k=`)).toBe(true);

    const bCalls = await w.sim.placeCall({ from: w.b, to: w.dB });
    expectDial(bCalls, w.a, w.dA);

    // B sees A as dB when A calls, and dials dB to reach A: one consistent number; and vice versa.
    const rows = await callRows(server, w.t.tenantId);
    expect(rows.map((r) => r.decision)).toEqual(["bridged", "bridged"]);
    const [p0, p1] = w.session.participants;
    expect(rows[0]).toMatchObject({ session_id: w.session.id, from_participant_id: p0!.id, to_participant_id: p1!.id, proxy_number: w.dA, status: "ringing", app_id: w.t.app.id });
    expect(rows[1]).toMatchObject({ session_id: w.session.id, from_participant_id: p1!.id, to_participant_id: p0!.id, proxy_number: w.dB });
  });

  it("one-way: participants[0] gets through, the other side is refused with the notAllowed message", async () => {
    const w = await world(server, { mode: "one_way" });
    expectDial(await w.sim.placeCall({ from: w.a, to: w.dA }), w.b, w.dB);
    const wrongSide = await w.sim.placeCall({ from: w.b, to: w.dB });
    expectRejected(wrongSide, DEFAULT_MESSAGES.notAllowed);
    expect(await rowFor(w.t.tenantId, wrongSide.callUuid)).toMatchObject({
      decision: "rejected_one_way",
      session_id: w.session.id,
      from_participant_id: w.session.participants[1]!.id,
      to_participant_id: null,
    });
  });

  it("routes numbers sent without + and in national format, for both From and To", async () => {
    const w = await world(server);
    const national = `0${w.a.slice(3)}`; // 098…: the app's default country is IN
    expect(national).toMatch(/^098\d{8}$/);
    expectDial(await w.sim.placeCall({ from: national, to: w.dA.slice(1) }), w.b, w.dB);
    expectDial(await w.sim.placeCall({ from: w.b.slice(1), to: `0${w.dB.slice(3)}` }), w.a, w.dA);
  });

  it("answers the GET variant (fields in the query string) the same way", async () => {
    const w = await world(server, { sim: { method: "GET" } });
    const call = await w.sim.placeCall({ from: w.a, to: w.dA });
    expect(call.request.method).toBe("GET");
    expectDial(call, w.b, w.dB);
    expect(await rowFor(w.t.tenantId, call.callUuid)).toMatchObject({ decision: "bridged" });
  });

  it("accepts V2 signatures", async () => {
    const w = await world(server);
    expectDial(await w.sim.placeCall({ from: w.a, to: w.dA, signatureVersion: "v2" }), w.b, w.dB);
  });
});

describe("rejections", () => {
  const custom = {
    notInService: "Sorry & goodbye <not in service>",
    sessionEnded: "Your order is done & dusted",
    notAllowed: "Please use the app to call 'them'",
  };

  it("an unknown caller hears the app's notInService message, with no session recorded", async () => {
    const w = await world(server);
    const [stranger] = people(1, 50) as [string];
    realNumbersSeen.push(stranger);
    const call = await w.sim.placeCall({ from: stranger, to: w.dA });
    expectRejected(call, DEFAULT_MESSAGES.notInService);
    expect(await rowFor(w.t.tenantId, call.callUuid)).toMatchObject({
      decision: "rejected_unknown_caller",
      session_id: null,
      from_participant_id: null,
      to_participant_id: null,
      proxy_number: w.dA,
    });

    await setMessages(w, custom);
    expectRejected(await w.sim.placeCall({ from: stranger, to: w.dA }), custom.notInService);
  });

  it("a caller dialling the wrong DID of their own session is unknown on that DID", async () => {
    const w = await world(server);
    // A holds dA for this session; dB is B's DID and pairs A with nobody.
    expectRejected(await w.sim.placeCall({ from: w.a, to: w.dB }), DEFAULT_MESSAGES.notInService);
  });

  it("a closed session connects nobody, with the sessionEnded message (XML-escaped)", async () => {
    const w = await world(server);
    await setMessages(w, custom);
    const closed = await server.request(`/v1/sessions/${w.session.id}/close`, { method: "POST", apiKey: w.t.apiKey });
    expect(closed.status).toBe(200);
    for (const [from, to] of [[w.a, w.dA], [w.b, w.dB]] as const) {
      const call = await w.sim.placeCall({ from, to });
      expectRejected(call, custom.sessionEnded);
      expect(call.xml).toContain("&amp;");
      expect(await rowFor(w.t.tenantId, call.callUuid)).toMatchObject({ decision: "rejected_session_closed", session_id: w.session.id });
    }
  });

  it("an expired session connects nobody, before any sweeper has run", async () => {
    clock.shift(-5_000);
    const w = await world(server, { ttlSeconds: 1 }).finally(() => clock.reset());
    const call = await w.sim.placeCall({ from: w.a, to: w.dA });
    expectRejected(call, DEFAULT_MESSAGES.sessionEnded);
    expect(await rowFor(w.t.tenantId, call.callUuid)).toMatchObject({ decision: "rejected_session_expired", session_id: w.session.id });
    // The row still says open: routing did not wait for the sweeper.
    expect(await server.deps.db("sessions").where({ id: w.session.id }).first()).toMatchObject({ status: "open" });
  });

  it("the notAllowed message is the app's own, and a message with & and < still parses", async () => {
    const w = await world(server, { mode: "one_way", app: { messages: custom } });
    const call = await w.sim.placeCall({ from: w.b, to: w.dB });
    expectRejected(call, custom.notAllowed);
    expect(parseVobizXml(call.xml).kind).toBe("reject");
  });

  it("malformed From or To is rejected_invalid_number, valid XML, no Dial", async () => {
    const w = await world(server);
    const call = await w.sim.placeCall({ from: "anonymous", to: w.dA });
    expectRejected(call, DEFAULT_MESSAGES.notInService);
    expect(await rowFor(w.t.tenantId, call.callUuid)).toMatchObject({ decision: "rejected_invalid_number", session_id: null });
    const call2 = await w.sim.placeCall({ from: w.a, to: "12" });
    expectRejected(call2, DEFAULT_MESSAGES.notInService);
    expect(await rowFor(w.t.tenantId, call2.callUuid)).toMatchObject({ decision: "rejected_invalid_number", proxy_number: null });
  });

  it("tenant B's answer URL never routes through tenant A's DIDs or sessions", async () => {
    const a = await world(server);
    const b = await tenantWithPool(server, { dids: 1 });
    const simB = new VobizSimulator({ authToken: AUTH_TOKEN, answerUrl: b.app.answerUrl, fetch: carrierFetch(server) });
    const call = await simB.placeCall({ from: a.a, to: a.dA });
    expectRejected(call, DEFAULT_MESSAGES.notInService);
    expect(await rowFor(b.tenantId, call.callUuid)).toMatchObject({ decision: "rejected_unknown_caller", session_id: null });
    expect(await rowFor(a.t.tenantId, call.callUuid)).toBeUndefined();
  });
});

describe("authentication", () => {
  it("refuses a bad signature with 403 forbidden and writes no call row", async () => {
    const w = await world(server);
    const forged = await w.sim.placeCall({ from: w.a, to: w.dA, signatureOverride: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" });
    await expectForbidden(forged.request);
    const wrongToken = await w.sim.placeCall({ from: w.a, to: w.dA, authToken: "someone-elses-token" });
    await expectForbidden(wrongToken.request);
    const noNonce = await w.sim.placeCall({ from: w.a, to: w.dA, headersOverride: { "X-Vobiz-Signature-V3-Nonce": null } });
    await expectForbidden(noNonce.request);
    expect(await callRows(server, w.t.tenantId)).toEqual([]);
  });

  it("refuses a signature made over the socket's host instead of PUBLIC_BASE_URL", async () => {
    const w = await world(server);
    const socketUrl = w.t.app.answerUrl.replace(PUBLIC_BASE_URL, server.baseUrl);
    const direct = new VobizSimulator({ authToken: AUTH_TOKEN, answerUrl: socketUrl });
    const call = await direct.placeCall({ from: w.a, to: w.dA });
    await expectForbidden(call.request);
    expect(await callRows(server, w.t.tenantId)).toEqual([]);
  });

  it("a missing signature is refused while the app requires one, and accepted once it does not; an invalid one never is", async () => {
    const w = await world(server);
    await expectForbidden((await w.sim.placeCall({ from: w.a, to: w.dA, signatureVersion: "none" })).request);
    expect(await callRows(server, w.t.tenantId)).toEqual([]);

    const patched = await server.request(`/v1/apps/${w.t.app.id}`, { method: "PATCH", apiKey: w.t.apiKey, json: { signatureRequired: false } });
    expect(patched.status).toBe(200);
    expectDial(await w.sim.placeCall({ from: w.a, to: w.dA, signatureVersion: "none" }), w.b, w.dB);
    await expectForbidden((await w.sim.placeCall({ from: w.a, to: w.dA, signatureOverride: "bm9wZQ==" })).request);
    expect(await callRows(server, w.t.tenantId)).toHaveLength(1);
  });

  it("refuses a wrong or missing URL secret", async () => {
    const w = await world(server);
    const wrongK = new VobizSimulator({ authToken: AUTH_TOKEN, answerUrl: w.t.app.answerUrl.replace(/k=[^&]+/, "k=guess"), fetch: carrierFetch(server) });
    await expectForbidden((await wrongK.placeCall({ from: w.a, to: w.dA })).request);
    const noK = new VobizSimulator({ authToken: AUTH_TOKEN, answerUrl: w.t.app.answerUrl.replace(/\?.*$/, ""), fetch: carrierFetch(server) });
    await expectForbidden((await noK.placeCall({ from: w.a, to: w.dA })).request);
    expect(await callRows(server, w.t.tenantId)).toEqual([]);
  });

  it("refuses a replayed nonce, even with different fields", async () => {
    const w = await world(server);
    const first = await w.sim.placeCall({ from: w.a, to: w.dA });
    expectDial(first, w.b, w.dB);
    const replay = await w.sim.placeCall({ from: w.b, to: w.dB, nonce: first.request.nonce! });
    await expectForbidden(replay.request);
    expect(await rowFor(w.t.tenantId, replay.callUuid)).toBeUndefined();
    expect(await callRows(server, w.t.tenantId)).toHaveLength(1);
  });

  it("answers an unknown app with 404 problem+json", async () => {
    const w = await world(server);
    const url = w.t.app.answerUrl.replace(w.t.app.id, "app_01JZZZZZZZZZZZZZZZZZZZZZZZ");
    const sim = new VobizSimulator({ authToken: AUTH_TOKEN, answerUrl: url, fetch: carrierFetch(server) });
    const call = await sim.placeCall({ from: w.a, to: w.dA });
    expect(call.status).toBe(404);
    const problem = await problemOf(new Response(call.request.body, { headers: { "content-type": call.contentType } }));
    expect(problem).toMatchObject({ status: 404, code: "not_found" });
  });

  it("the hangup and dial-status webhooks apply the same checks and write nothing when refused", async () => {
    const w = await world(server, { sim: { hangupUrl: undefined } });
    const call = await w.sim.placeCall({ from: w.a, to: w.dA });
    const before = await rowFor(w.t.tenantId, call.callUuid);
    const hangup = await w.sim.sendHangup(
      { callUuid: call.callUuid, from: w.a, to: w.dA, durationSeconds: 30 },
      { signatureOverride: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" },
    );
    await expectForbidden(hangup);
    const dialStatus = await w.sim.request(call.dial!.action!.replace(/k=[^&]+/, "k=nope"), { CallUUID: call.callUuid, DialStatus: "completed" });
    await expectForbidden(dialStatus);
    const hangupUrl = await w.sim.request(w.t.app.hangupUrl, { CallUUID: call.callUuid, CallStatus: "completed", Event: "Hangup" }, { signatureVersion: "none" });
    await expectForbidden(hangupUrl);
    expect(await rowFor(w.t.tenantId, call.callUuid)).toEqual(before);
  });
});

describe("idempotency", () => {
  it("a retried CallUUID gets byte-identical XML and no second row, even after the session closed", async () => {
    const w = await world(server);
    const callUuid = randomUUID();
    const first = await w.sim.placeCall({ from: w.a, to: w.dA, callUuid });
    expectDial(first, w.b, w.dB);
    await server.request(`/v1/sessions/${w.session.id}/close`, { method: "POST", apiKey: w.t.apiKey });
    const again = await w.sim.placeCall({ from: w.a, to: w.dA, callUuid });
    expect(again.xml).toBe(first.xml);
    expect(await callRows(server, w.t.tenantId)).toHaveLength(1);
  });

  it("concurrent duplicates all get the winner's XML, and exactly one row is written", async () => {
    const w = await world(server);
    const callUuid = randomUUID();
    const results = await Promise.all(Array.from({ length: 6 }, () => w.sim.placeCall({ from: w.a, to: w.dA, callUuid })));
    for (const r of results) expect(r.xml).toBe(results[0]!.xml);
    expectDial(results[0]!, w.b, w.dB);
    expect(await callRows(server, w.t.tenantId)).toHaveLength(1);
  });
});

describe("end of call", () => {
  it("hangup and dial-status update the call row; repeats change nothing", async () => {
    const w = await world(server, { sim: { hangupUrl: undefined } });
    const sim = new VobizSimulator({ authToken: AUTH_TOKEN, answerUrl: w.t.app.answerUrl, hangupUrl: w.t.app.hangupUrl, fetch: carrierFetch(server) });
    const call = await sim.placeCall({ from: w.a, to: w.dA });
    expectDial(call, w.b, w.dB);
    const done = await sim.completeCall(call, { dialStatus: "completed", durationSeconds: 95 });
    expect(done.dialAction?.status).toBe(200);
    expect(done.dialAction?.parsed.kind).toBe("empty");
    expect(done.dialAction?.contentType).toMatch(/^application\/xml/);
    expect(done.hangup.status).toBe(200);
    expect(done.hangup.parsed.kind).toBe("empty");

    const row = await rowFor(w.t.tenantId, call.callUuid);
    const start = Math.floor(call.startedAt.getTime() / 1000) * 1000;
    expect(row).toMatchObject({ status: "completed", dial_status: "completed", duration_seconds: 95, hangup_cause: "Normal Hangup", decision: "bridged" });
    expect(new Date(row.answered_at).getTime()).toBe(start);
    expect(new Date(row.ended_at).getTime()).toBe(start + 95_000);

    // The carrier may deliver notices twice.
    await sim.completeCall(call, { dialStatus: "completed", durationSeconds: 95 });
    const again = await rowFor(w.t.tenantId, call.callUuid);
    expect({ ...again, updated_at: null }).toEqual({ ...row, updated_at: null });
  });

  it("a busy dial records the dial status and its cause until the hangup notice brings the call's own", async () => {
    const w = await world(server);
    const sim = new VobizSimulator({ authToken: AUTH_TOKEN, answerUrl: w.t.app.answerUrl, hangupUrl: w.t.app.hangupUrl, fetch: carrierFetch(server) });
    const call = await sim.placeCall({ from: w.a, to: w.dA });
    const res = await sim.request(call.dial!.action!, {
      CallUUID: call.callUuid,
      CallStatus: "in-progress",
      DialStatus: "busy",
      DialHangupCause: "USER_BUSY",
    });
    expect(res.status).toBe(200);
    expect(await rowFor(w.t.tenantId, call.callUuid)).toMatchObject({ dial_status: "busy", hangup_cause: "USER_BUSY", status: "in-progress", answered_at: null });
    await sim.sendHangup({ callUuid: call.callUuid, from: w.a, to: w.dA, answered: false, callStatus: "completed", hangupCause: "NORMAL_CLEARING", hangupCauseCode: 4000 });
    expect(await rowFor(w.t.tenantId, call.callUuid)).toMatchObject({ status: "completed", dial_status: "busy", hangup_cause: "Normal Hangup", duration_seconds: 0, answered_at: null });
    // A late dial-status never moves a finished call back to in-progress.
    await sim.request(call.dial!.action!, { CallUUID: call.callUuid, CallStatus: "in-progress", DialStatus: "busy" });
    expect(await rowFor(w.t.tenantId, call.callUuid)).toMatchObject({ status: "completed" });
  });

  it("an end-of-call notice at the answer URL is recorded and answered empty, never with a Dial", async () => {
    const w = await world(server); // no hangupUrl: notices go to the answer URL
    const call = await w.sim.placeCall({ from: w.a, to: w.dA });
    expectDial(call, w.b, w.dB);
    const done = await w.sim.completeCall(call, { dialStatus: "no-answer", durationSeconds: 0 });
    expect(done.hangup.url.split("?")[0]).toBe(w.t.app.answerUrl.split("?")[0]);
    expect(done.hangup.status).toBe(200);
    expect(done.hangup.contentType).toMatch(/^application\/xml/);
    expect(done.hangup.parsed.kind).toBe("empty");
    expect(done.hangup.body).not.toContain("Dial");
    expect(await rowFor(w.t.tenantId, call.callUuid)).toMatchObject({ status: "completed", dial_status: "no-answer", hangup_cause: "Normal Hangup" });

    // A terminal CallStatus alone also marks a notice, even for a CallUUID never answered: empty reply, nothing written.
    const stray = await w.sim.request(w.t.app.answerUrl, { CallUUID: randomUUID(), From: w.a, To: w.dA, CallStatus: "busy", Event: "StartApp" });
    expect(stray.status).toBe(200);
    expect(parseVobizXml(stray.body).kind).toBe("empty");
    expect(await callRows(server, w.t.tenantId)).toHaveLength(1);
  });

  it("a hangup for an unknown CallUUID is acknowledged and writes nothing", async () => {
    const w = await world(server);
    const res = await w.sim.sendHangup({ callUuid: randomUUID(), from: w.a, to: w.dA, durationSeconds: 10 });
    expect(res.status).toBe(200);
    expect(res.parsed.kind).toBe("empty");
    expect(await callRows(server, w.t.tenantId)).toEqual([]);
  });

  it("call rows never hold a real number in plain text, and keep each reply encrypted under the server's key", async () => {
    const w = await world(server);
    const [stranger] = people(1, 70) as [string];
    realNumbersSeen.push(stranger);
    const sim = new VobizSimulator({ authToken: AUTH_TOKEN, answerUrl: w.t.app.answerUrl, hangupUrl: w.t.app.hangupUrl, fetch: carrierFetch(server) });
    const sent = new Map<string, string>();
    for (const [from, to] of [[w.a, w.dA], [w.b, w.dB], [stranger, w.dA]] as const) {
      const call = await sim.placeCall({ from, to });
      sent.set(call.callUuid, call.xml);
      await sim.completeCall(call, { durationSeconds: 12 });
    }
    // The two bridged replies name the real number dialled: what the row must not show in the clear.
    expect([...sent.values()].filter((xml) => xml.includes(w.a) || xml.includes(w.b))).toHaveLength(2);
    const rows = await callRows(server, w.t.tenantId);
    expect(rows).toHaveLength(3);
    expectNoRealNumbers(JSON.stringify(rows), [w.a, w.b, stranger]);
    for (const row of rows) {
      // A keyring ciphertext under the server's key (not an encoding of the XML), and it decrypts to exactly the bytes
      // the carrier was sent, which is what a retried CallUUID is answered with.
      expect(row.reply_enc).toMatch(new RegExp(`^v1\\.${server.deps.keys.keyId}\\.[\\w-]+\\.[\\w-]+\\.[\\w-]+$`));
      expect(server.deps.keys.decrypt(row.reply_enc)).toBe(sent.get(row.call_uuid));
    }
  });
});

describe("when the database is unusable", () => {
  let spare: TestServer;
  beforeAll(async () => {
    spare = await startTestServer({ env: { PUBLIC_BASE_URL, DATABASE_POOL_MAX: "1" } });
  });
  afterAll(async () => {
    // Failures are logged in full, and still without a real number in them.
    const logs = spare.logs.join("");
    expect(logs).toContain("answer webhook failed");
    expectNoRealNumbers(logs, realNumbersSeen);
    await spare?.stop();
  });

  it("a stuck database still gets the caller a polite XML goodbye within a second", async () => {
    const w = await world(spare, { app: { messages: { unavailable: "Back in a moment & thanks" } } });
    // Hold the only connection: every other query waits for knex's acquire timeout (5 s) unless bounded.
    let release!: () => void;
    const held = spare.deps.db.transaction(async (trx) => {
      await trx.raw("select 1");
      await new Promise<void>((r) => (release = r));
    });
    await sleep(50);
    try {
      const started = performance.now();
      const call = await w.sim.placeCall({ from: w.a, to: w.dA });
      const elapsed = performance.now() - started;
      expect(elapsed).toBeLessThan(1000);
      expect(call.status).toBe(200);
      expect(call.kind).toBe("reject");
      expect(call.xml).not.toContain("<Dial");
      expect(call.hangupReason).toBe("rejected");
      // The app comes from memory (its cache was warmed when the session was opened), so even with the database
      // stuck the caller hears the app's own words.
      expect(call.speak).toEqual(["Back in a moment & thanks"]);
      expect(call.problems).toEqual([]);
    } finally {
      release();
      await held;
    }
    // And once the database is back, the same call connects.
    expectDial(await w.sim.placeCall({ from: w.a, to: w.dA }), w.b, w.dB);
  });

  it("a destroyed database pool answers unavailable XML within a second; notices get a 503 to be retried", async () => {
    const w = await world(spare);
    await spare.deps.db.destroy();
    const started = performance.now();
    const call = await w.sim.placeCall({ from: w.a, to: w.dA });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(call.status).toBe(200);
    expect(call.kind).toBe("reject");
    expect(call.xml).not.toContain("<Dial");
    expect(call.speak).toEqual([DEFAULT_MESSAGES.unavailable]);

    const notice = await w.sim.sendHangup({ callUuid: call.callUuid, from: w.a, to: w.dA, durationSeconds: 5 });
    expect(notice.status).toBe(503);
    expect(JSON.parse(notice.body)).toMatchObject({ code: "unavailable" });
  });
});
