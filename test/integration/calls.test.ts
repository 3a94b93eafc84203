/** The call records API: what the webhooks recorded, as tenants read it. Never a real number; never another tenant's. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectNoRealNumbers } from "../support/privacy.js";
import { startTestServer, type TestServer } from "../support/harness.js";
import { expectInvisibleToOtherTenant, expectNotListed, problemOf } from "../support/isolation.js";
import { AUTH_TOKEN, createSession, people, tenantWithPool, type Schemas, type TenantFixture } from "../support/fixtures.js";
import { VobizSimulator } from "../sim/vobiz-simulator.js";

const PUBLIC_BASE_URL = "https://calls.example.test";

type Call = Schemas["Call"];
type Page = Schemas["CallList"];
type Session = Schemas["Session"];

let server: TestServer;
const realNumbersSeen: string[] = [];

beforeAll(async () => {
  server = await startTestServer({ env: { PUBLIC_BASE_URL } });
});
afterAll(async () => {
  const logs = server.logs.join("");
  expectNoRealNumbers(logs, realNumbersSeen);
  await server?.stop();
});

function carrier(t: TenantFixture) {
  return new VobizSimulator({
    authToken: AUTH_TOKEN,
    answerUrl: t.app.answerUrl,
    hangupUrl: t.app.hangupUrl,
    fetch: (input, init) => fetch(server.baseUrl + String(input).slice(PUBLIC_BASE_URL.length), init),
  });
}

async function world() {
  const t = await tenantWithPool(server, { dids: 2 });
  const [a, b] = people(2) as [string, string];
  realNumbersSeen.push(a, b);
  const res = await createSession(server, t.apiKey, { participants: [{ number: a }, { number: b }] });
  expect(res.status).toBe(201);
  const session = (await res.json()) as Session;
  return { t, a, b, session, dA: session.participants[0]!.proxyNumber, dB: session.participants[1]!.proxyNumber, sim: carrier(t) };
}

async function getJson<T>(path: string, apiKey: string, status = 200): Promise<{ body: T; text: string }> {
  const res = await server.request(path, { apiKey });
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return { body: JSON.parse(text) as T, text };
}

describe("call records", () => {
  it("list by session shows the full record after hangup and dial-status, with no real number anywhere", async () => {
    const w = await world();
    const call = await w.sim.placeCall({ from: w.a, to: w.dA });
    expect(call.kind).toBe("dial");
    await w.sim.completeCall(call, { dialStatus: "completed", durationSeconds: 42 });

    const { body, text } = await getJson<Page>(`/v1/calls?sessionId=${w.session.id}`, w.t.apiKey);
    expectNoRealNumbers(text, [w.a, w.b]);
    expect(body.nextCursor).toBeNull();
    expect(body.data).toHaveLength(1);
    const rec = body.data[0]!;
    expect(Object.keys(rec).sort()).toEqual(
      ["answeredAt", "appId", "callUuid", "decision", "dialStatus", "direction", "durationSeconds", "endedAt", "fromParticipantId", "hangupCause", "hangupCauseCode", "id", "proxyNumber", "sessionId", "startedAt", "status", "toParticipantId"],
    );
    expect(rec).toMatchObject({
      callUuid: call.callUuid,
      appId: w.t.app.id,
      sessionId: w.session.id,
      proxyNumber: w.dA,
      fromParticipantId: w.session.participants[0]!.id,
      toParticipantId: w.session.participants[1]!.id,
      decision: "bridged",
      status: "completed",
      dialStatus: "completed",
      durationSeconds: 42,
      hangupCause: "Normal Hangup",
      hangupCauseCode: "4000",
      direction: "inbound",
    });
    expect(rec.id).toMatch(/^call_/);
    expect(Date.parse(rec.endedAt!) - Date.parse(rec.answeredAt!)).toBe(42_000);
    expect(Number.isNaN(Date.parse(rec.startedAt))).toBe(false);

    const one = await getJson<Call>(`/v1/calls/${rec.id}`, w.t.apiKey);
    expect(one.body).toEqual(rec);
  });

  it("lists newest first, pages with a cursor, and filters by decision", async () => {
    const w = await world();
    const [stranger] = people(1, 40) as [string];
    realNumbersSeen.push(stranger);
    const uuids: string[] = [];
    for (const [from, to] of [[w.a, w.dA], [stranger, w.dA], [w.b, w.dB], [stranger, w.dB], [w.a, w.dA]] as const) {
      uuids.push((await w.sim.placeCall({ from, to })).callUuid);
    }
    const seen: Call[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: Page } = await getJson<Page>(`/v1/calls?limit=2${cursor ? `&cursor=${cursor}` : ""}`, w.t.apiKey);
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.data);
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen.map((c) => c.callUuid)).toEqual([...uuids].reverse());
    expect(new Set(seen.map((c) => c.id)).size).toBe(5);

    const rejected = await getJson<Page>(`/v1/calls?decision=rejected_unknown_caller`, w.t.apiKey);
    expect(rejected.body.data.map((c) => c.callUuid)).toEqual([uuids[3], uuids[1]]);
    for (const c of rejected.body.data) expect(c).toMatchObject({ sessionId: null, fromParticipantId: null, toParticipantId: null });
    const bridged = await getJson<Page>(`/v1/calls?decision=bridged&sessionId=${w.session.id}`, w.t.apiKey);
    expect(bridged.body.data).toHaveLength(3);
  });

  it("validates filters and cursors, and needs an API key", async () => {
    const w = await world();
    const bad = await server.request(`/v1/calls?decision=maybe`, { apiKey: w.t.apiKey });
    expect(bad.status).toBe(422);
    expect((await problemOf(bad)).code).toBe("validation_failed");
    const badCursor = await server.request(`/v1/calls?cursor=nonsense`, { apiKey: w.t.apiKey });
    expect(badCursor.status).toBe(422);
    expect((await server.request(`/v1/calls`)).status).toBe(401);
    const missing = await server.request(`/v1/calls/call_01JZZZZZZZZZZZZZZZZZZZZZZZ`, { apiKey: w.t.apiKey });
    expect(missing.status).toBe(404);
    expect((await problemOf(missing)).code).toBe("not_found");
  });

  it("another tenant gets 404 for a call and never sees it listed, even filtering by the owner's session", async () => {
    const w = await world();
    const call = await w.sim.placeCall({ from: w.a, to: w.dA });
    const { body } = await getJson<Page>(`/v1/calls?sessionId=${w.session.id}`, w.t.apiKey);
    const id = body.data[0]!.id;
    expect(body.data[0]!.callUuid).toBe(call.callUuid);

    const intruder = await server.createTenant("Intruder");
    await expectInvisibleToOtherTenant(server, intruder.apiKey, [{ method: "GET", path: `/v1/calls/${id}` }]);
    await expectNotListed(server, intruder.apiKey, "/v1/calls", [id]);
    await expectNotListed(server, intruder.apiKey, `/v1/calls?sessionId=${w.session.id}`, [id]);
  });
});
