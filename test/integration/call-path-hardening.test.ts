/**
 * The answer path under hostile or unusual carrier input: fields no carrier sends are refused at the edge (and never
 * block another tenant's call records), every answered call's row exists as soon as its reply does, a CallUUID with a
 * row is answered from that row, the carrier's retries under one nonce are answered as retries, and the carrier's
 * real-world quirks (canceled, GET callbacks, cause codes, a Dial completed with no B-leg) are recorded honestly.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectNoRealNumbers } from "../support/privacy.js";
import { startTestServer, type TestServer } from "../support/harness.js";
import { AUTH_TOKEN, createSession, people, tenantWithPool, type TenantFixture } from "../support/fixtures.js";
import { VobizSimulator, randomNonce } from "../sim/vobiz-simulator.js";
import { parseVobizXml } from "../sim/vobiz-xml.js";
import { computeSignature, signatureBaseUrl } from "../../server/src/vobiz/signature.js";

const PUBLIC_BASE_URL = "https://hardening.example.test";
let server: TestServer;
const realNumbersSeen: string[] = [];

function carrierFetch(target: TestServer): typeof fetch {
  return (input, init) => fetch(target.baseUrl + String(input).slice(PUBLIC_BASE_URL.length), init);
}

interface World {
  t: TenantFixture;
  a: string;
  b: string;
  sessionId: string;
  dA: string;
  dB: string;
  sim: VobizSimulator;
}

async function world(app: Record<string, unknown> = {}, sim: Partial<ConstructorParameters<typeof VobizSimulator>[0]> = {}): Promise<World> {
  const t = await tenantWithPool(server, { dids: 2, app });
  const [a, b] = people(2) as [string, string];
  realNumbersSeen.push(a, b);
  const res = await createSession(server, t.apiKey, { participants: [{ number: a }, { number: b }] });
  expect(res.status).toBe(201);
  const s = (await res.json()) as { id: string; participants: Array<{ proxyNumber: string }> };
  return {
    t,
    a,
    b,
    sessionId: s.id,
    dA: s.participants[0]!.proxyNumber,
    dB: s.participants[1]!.proxyNumber,
    sim: new VobizSimulator({ authToken: AUTH_TOKEN, answerUrl: t.app.answerUrl, hangupUrl: t.app.hangupUrl, fetch: carrierFetch(server), ...sim }),
  };
}

const callRow = (tenantId: string, callUuid: string) => server.deps.db("calls").where({ tenant_id: tenantId, call_uuid: callUuid }).first();

const startFields = (w: World, callUuid: string, from = w.a, to = w.dA) => ({
  CallUUID: callUuid,
  From: from,
  To: to,
  Direction: "inbound",
  CallStatus: "ringing",
  Event: "StartApp",
});

beforeAll(async () => {
  server = await startTestServer({ env: { PUBLIC_BASE_URL } });
});
afterAll(async () => {
  expectNoRealNumbers(server.logs.join(""), realNumbersSeen);
  await server?.stop();
});

describe("carrier fields are validated at the edge", () => {
  it("refuses a signed answer whose CallUUID holds a NUL with 422, records nothing, and other tenants' calls keep their rows", async () => {
    const bad = await world();
    const good = await world();
    const res = await bad.sim.request(bad.t.app.answerUrl, startFields(bad, "nul\u0000uuid"));
    expect(res.status).toBe(422);
    expect(res.contentType).toContain("application/problem+json");
    const problem = JSON.parse(res.body) as { code: string; errors: Array<{ path: string }> };
    expect(problem.code).toBe("validation_failed");
    expect(problem.errors.map((e) => e.path)).toEqual(["/body/CallUUID"]);
    expect(await server.deps.db("calls").where({ tenant_id: bad.t.tenantId }).first()).toBeUndefined();

    // The next calls, of this tenant and another, are answered and recorded; the calls API answers at once.
    const ok = await good.sim.placeCall({ from: good.a, to: good.dA });
    expect(ok.kind).toBe("dial");
    expect(await callRow(good.t.tenantId, ok.callUuid)).toMatchObject({ decision: "bridged" });
    const started = performance.now();
    const list = await server.request("/v1/calls", { apiKey: good.t.apiKey });
    expect(list.status).toBe(200);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it.each([
    // (A lone surrogate cannot arrive in a form: URL encoding turns it into U+FFFD, which is storable text.)
    ["From", "+91\u007f98888"],
    ["To", "+91\u0007"],
    ["HangupCause", "x".repeat(300)],
  ])("refuses %s that no carrier sends, naming the field only", async (field, value) => {
    const w = await world();
    const res = await w.sim.request(w.t.app.answerUrl, { ...startFields(w, randomUUID()), [field]: value });
    expect(res.status).toBe(422);
    expect(JSON.parse(res.body).errors).toEqual([{ path: `/body/${field}`, message: expect.any(String) }]);
  });

  it("answers 404 for app ids that cannot be ours (NUL, over-long, malformed) without a lookup", async () => {
    const w = await world();
    const k = new URL(w.t.app.answerUrl).search;
    for (const appId of ["app_%00", "app_" + "A".repeat(5000), "app_01J%00AAAAAAAAAAAAAAAAAAAAAA", "nonsense"]) {
      const url = `${PUBLIC_BASE_URL}/v1/vobiz/${appId}/answer${k}`;
      const res = await w.sim.request(url, startFields(w, randomUUID()));
      expect(res.status, appId.slice(0, 40)).toBe(404);
      expect((JSON.parse(res.body) as { code: string }).code).toBe("not_found");
    }
  });

  it("refuses a signature whose nonce is not a nonce (5,000 characters) and stores nothing", async () => {
    const w = await world();
    const res = await w.sim.request(w.t.app.answerUrl, startFields(w, randomUUID()), { nonce: "9".repeat(5000) });
    expect(res.status).toBe(403);
    expect(await server.deps.db("webhook_nonces").where({ app_id: w.t.app.id }).first()).toBeUndefined();
    expect(await server.deps.db("calls").where({ tenant_id: w.t.tenantId }).first()).toBeUndefined();
  });
});

describe("call rows are the durable record of each decision", () => {
  it("has the row with its decision the moment the reply arrives (nothing waits in memory)", async () => {
    const w = await world();
    const bridged = await w.sim.placeCall({ from: w.a, to: w.dA });
    expect(bridged.kind).toBe("dial");
    expect(await callRow(w.t.tenantId, bridged.callUuid)).toMatchObject({ decision: "bridged", session_id: w.sessionId });
    const stranger = people(1)[0]!;
    realNumbersSeen.push(stranger);
    const rejected = await w.sim.placeCall({ from: stranger, to: w.dA });
    expect(rejected.kind).toBe("reject");
    expect(await callRow(w.t.tenantId, rejected.callUuid)).toMatchObject({ decision: "rejected_unknown_caller" });
  });

  it("answers a CallUUID that has a row from that row, even re-sent with another From", async () => {
    const w = await world();
    const stranger = people(1)[0]!;
    realNumbersSeen.push(stranger);
    const callUuid = randomUUID();
    const first = await w.sim.request(w.t.app.answerUrl, startFields(w, callUuid, stranger));
    expect(parseVobizXml(first.body).kind).toBe("reject");
    // Same CallUUID, now from the session's participant, with a fresh nonce: still the rejection, still one row.
    const again = await w.sim.request(w.t.app.answerUrl, startFields(w, callUuid, w.a));
    expect(again.status).toBe(200);
    expect(again.body).toBe(first.body);
    expect(await server.deps.db("calls").where({ tenant_id: w.t.tenantId, call_uuid: callUuid }).count({ n: "*" }).first()).toMatchObject({ n: 1 });
  });

  it("concurrent requests for one CallUUID get one decision and one row", async () => {
    const w = await world();
    const callUuid = randomUUID();
    const replies = await Promise.all(Array.from({ length: 12 }, () => w.sim.request(w.t.app.answerUrl, startFields(w, callUuid))));
    expect(new Set(replies.map((r) => r.body)).size).toBe(1);
    expect(parseVobizXml(replies[0]!.body).kind).toBe("dial");
    expect(await server.deps.db("calls").where({ tenant_id: w.t.tenantId, call_uuid: callUuid }).count({ n: "*" }).first()).toMatchObject({ n: 1 });
  });
});

describe("replays and the carrier's own retries", () => {
  it("answers the carrier's retry of a request (same nonce, CallUUID and Event) with the stored reply, not 403", async () => {
    const w = await world();
    const nonce = randomNonce();
    const fields = startFields(w, randomUUID());
    const first = await w.sim.request(w.t.app.answerUrl, fields, { nonce });
    expect(parseVobizXml(first.body).kind).toBe("dial");
    const retry = await w.sim.request(w.t.app.answerUrl, fields, { nonce });
    expect(retry.status).toBe(200);
    expect(retry.body).toBe(first.body);
  });

  it("refuses the same nonce with another CallUUID, or on another endpoint, as a replay", async () => {
    const w = await world();
    const nonce = randomNonce();
    const first = await w.sim.request(w.t.app.answerUrl, startFields(w, randomUUID()), { nonce });
    expect(parseVobizXml(first.body).kind).toBe("dial");
    const otherUuid = randomUUID();
    const other = await w.sim.request(w.t.app.answerUrl, startFields(w, otherUuid, w.b, w.dB), { nonce });
    expect(other.status).toBe(403);
    expect(JSON.parse(other.body)).toMatchObject({ code: "forbidden" });
    expect(await callRow(w.t.tenantId, otherUuid)).toBeUndefined();
    const elsewhereUuid = randomUUID();
    const elsewhere = await w.sim.request(w.t.app.hangupUrl, { ...startFields(w, elsewhereUuid), Event: "Hangup" }, { nonce });
    expect(elsewhere.status).toBe(403);
    expect(JSON.parse(elsewhere.body)).toMatchObject({ code: "forbidden" });
    expect(await callRow(w.t.tenantId, elsewhereUuid)).toBeUndefined();
    // The same request with a fresh nonce is served: the refusal was the replayed nonce, not the request.
    expect(parseVobizXml((await w.sim.request(w.t.app.answerUrl, startFields(w, otherUuid, w.b, w.dB))).body).kind).toBe("dial");
  });

  it("refuses a request signed under V3 and V2 replayed with its V3 headers stripped", async () => {
    const w = await world();
    const base = signatureBaseUrl(w.t.app.answerUrl);
    const [n3, n2] = [randomNonce(), randomNonce()];
    const v2 = { "X-Vobiz-Signature-V2": computeSignature("v2", AUTH_TOKEN, base, n2), "X-Vobiz-Signature-V2-Nonce": n2 };
    const both = { ...v2, "X-Vobiz-Signature-V3": computeSignature("v3", AUTH_TOKEN, base, n3), "X-Vobiz-Signature-V3-Nonce": n3 };
    const fields = startFields(w, randomUUID());
    const first = await w.sim.request(w.t.app.answerUrl, fields, { signatureVersion: "none", headersOverride: both });
    expect(parseVobizXml(first.body).kind).toBe("dial");
    const stripped = await w.sim.request(w.t.app.answerUrl, { ...fields, CallUUID: randomUUID() }, { signatureVersion: "none", headersOverride: v2 });
    expect(stripped.status).toBe(403);
  });
});

describe("carrier fidelity", () => {
  it("bounds every Dial by the app's maxCallSeconds", async () => {
    const w = await world({ maxCallSeconds: 900 });
    const call = await w.sim.placeCall({ from: w.a, to: w.dA });
    expect(call.dial?.timeLimit).toBe(900);
    const patched = await server.request(`/v1/apps/${w.t.app.id}`, { method: "PATCH", apiKey: w.t.apiKey, json: { maxCallSeconds: 120 } });
    expect(((await patched.json()) as { maxCallSeconds: number }).maxCallSeconds).toBe(120);
    const next = await w.sim.placeCall({ from: w.b, to: w.dB });
    expect(next.dial?.timeLimit).toBe(120);
  });

  it("records CallStatus=canceled as an end-of-call notice with status cancel, and never answers it with a Dial", async () => {
    const w = await world();
    const call = await w.sim.placeCall({ from: w.a, to: w.dA });
    const notice = await w.sim.request(w.t.app.answerUrl, { ...startFields(w, call.callUuid), CallStatus: "canceled", Event: "StartApp" });
    expect(notice.status).toBe(200);
    expect(parseVobizXml(notice.body).kind).not.toBe("dial");
    expect(await callRow(w.t.tenantId, call.callUuid)).toMatchObject({ status: "cancel" });
  });

  it("accepts hangup and dial-status callbacks by GET, and stores the numeric hangup cause code", async () => {
    const w = await world();
    const call = await w.sim.placeCall({ from: w.a, to: w.dA });
    const dial = await w.sim.request(
      w.t.app.dialStatusUrl,
      { CallUUID: call.callUuid, DialStatus: "busy", DialBLegUUID: randomUUID(), DialHangupCause: "USER_BUSY" },
      { method: "GET" },
    );
    expect(dial.status).toBe(200);
    const hangup = await w.sim.request(
      w.t.app.hangupUrl,
      { CallUUID: call.callUuid, Event: "Hangup", CallStatus: "busy", HangupCauseName: "NORMAL_CLEARING", HangupCauseCode: "3010" },
      { method: "GET" },
    );
    expect(hangup.status).toBe(200);
    const res = await server.request(`/v1/calls?sessionId=${w.sessionId}`, { apiKey: w.t.apiKey });
    const [rec] = ((await res.json()) as { data: Array<Record<string, unknown>> }).data;
    expect(rec).toMatchObject({ dialStatus: "busy", status: "busy", hangupCause: "NORMAL_CLEARING", hangupCauseCode: "3010", direction: "inbound" });
  });

  it("reads a Dial completed with an empty DialBLegUUID as connecting nobody", async () => {
    const w = await world();
    const call = await w.sim.placeCall({ from: w.a, to: w.dA });
    const res = await w.sim.request(w.t.app.dialStatusUrl, {
      CallUUID: call.callUuid,
      DialStatus: "completed",
      DialBLegUUID: "",
      DialBLegDuration: "12",
      DialBLegBillDuration: "60",
    });
    expect(res.status).toBe(200);
    const row = await callRow(w.t.tenantId, call.callUuid);
    expect(row.answered_at).toBeNull();
    expect(row.dial_status).not.toBe("completed");
  });

  it("another tenant's carrier callbacks never touch this tenant's call", async () => {
    const mine = await world();
    const theirs = await world();
    const call = await mine.sim.placeCall({ from: mine.a, to: mine.dA });
    const res = await theirs.sim.request(theirs.t.app.hangupUrl, { CallUUID: call.callUuid, Event: "Hangup", CallStatus: "completed" });
    expect(res.status).toBe(200);
    expect(await callRow(mine.t.tenantId, call.callUuid)).toMatchObject({ status: "ringing", ended_at: null });
    const listed = await server.request(`/v1/calls?sessionId=${mine.sessionId}`, { apiKey: theirs.t.apiKey });
    expect(((await listed.json()) as { data: unknown[] }).data).toEqual([]);
  });
});
