/**
 * Sub-account signatures end to end. The tenant registered its main-account (parent) token, but its numbers sit on a
 * sub-account: the carrier signs X-Vobiz-Signature-V3 with the sub-account's token, which the service does not know,
 * and X-Vobiz-Signature-MA-V3 with the parent token, which it does. Before MA headers were checked, every such call
 * got 403 and the carrier dropped it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectNoRealNumbers } from "../support/privacy.js";
import { startTestServer, type TestServer } from "../support/harness.js";
import { createSession, people, tenantWithPool, type TenantFixture } from "../support/fixtures.js";
import { VobizSimulator, type SimResponse } from "../sim/vobiz-simulator.js";

const PUBLIC_BASE_URL = "https://masking.example.test";
const PARENT_TOKEN = "main-account-auth-token";
const SUB_TOKEN = "sub-account-auth-token";

let server: TestServer;
const realNumbersSeen: string[] = [];

/** The proxy in front of the test socket, so the server checks signatures over PUBLIC_BASE_URL as in production. */
function carrierFetch(target: TestServer): typeof fetch {
  return (input, init) => {
    const url = String(input);
    if (!url.startsWith(PUBLIC_BASE_URL + "/")) throw new Error(`the carrier was given a non-public URL: ${url}`);
    return fetch(target.baseUrl + url.slice(PUBLIC_BASE_URL.length), init);
  };
}

beforeAll(async () => {
  server = await startTestServer({ env: { PUBLIC_BASE_URL } });
});
afterAll(async () => {
  expectNoRealNumbers(server.logs.join(""), realNumbersSeen);
  await server?.stop();
});

interface World {
  t: TenantFixture;
  a: string;
  b: string;
  dA: string;
  dB: string;
}

/** A tenant whose app holds the parent token, with a two-way session between a and b. */
async function world(): Promise<World> {
  const t = await tenantWithPool(server, { dids: 2, app: { vobizAuthToken: PARENT_TOKEN } });
  const [a, b] = people(2) as [string, string];
  realNumbersSeen.push(a, b);
  const res = await createSession(server, t.apiKey, {
    participants: [{ number: a, label: "agent" }, { number: b, label: "customer" }],
    mode: "two_way",
  });
  expect(res.status).toBe(201);
  const session = (await res.json()) as { participants: Array<{ proxyNumber: string }> };
  return { t, a, b, dA: session.participants[0]!.proxyNumber, dB: session.participants[1]!.proxyNumber };
}

function subAccountSim(w: World, opts: Partial<ConstructorParameters<typeof VobizSimulator>[0]> = {}) {
  return new VobizSimulator({
    authToken: SUB_TOKEN,
    parentAuthToken: PARENT_TOKEN,
    answerUrl: w.t.app.answerUrl,
    fetch: carrierFetch(server),
    ...opts,
  });
}

async function decisionOf(tenantId: string, callUuid: string): Promise<string | undefined> {
  const row = await server.deps.db("calls").where({ tenant_id: tenantId, call_uuid: callUuid }).first();
  return row?.decision as string | undefined;
}

function expectForbidden(res: SimResponse) {
  expect(res.status).toBe(403);
  expect(JSON.parse(res.body)).toMatchObject({ status: 403, code: "forbidden" });
}

describe("sub-account signatures", () => {
  for (const version of ["v3", "v2"] as const) {
    it(`${version}: bridges a call whose own signature uses the sub-account token and whose MA signature uses the app's (parent) token`, async () => {
      const w = await world();
      const call = await subAccountSim(w, { signatureVersion: version }).placeCall({ from: w.a, to: w.dA });

      const tag = version.toUpperCase();
      expect(call.request.requestHeaders[`X-Vobiz-Signature-${tag}`]).toBeDefined();
      expect(call.request.requestHeaders[`X-Vobiz-Signature-MA-${tag}`]).toBeDefined();
      expect(call.status, call.request.body).toBe(200);
      expect(call.kind, call.xml).toBe("dial");
      expect(call.dial?.numbers).toEqual([w.b]);
      expect(call.dial?.callerId).toBe(w.dB);
      expect(await decisionOf(w.t.tenantId, call.callUuid)).toBe("bridged");
    });
  }

  it("bridges a call that carries only the MA signature", async () => {
    const w = await world();
    const call = await subAccountSim(w, { masterSignatureOnly: true }).placeCall({ from: w.a, to: w.dA });
    expect(call.request.requestHeaders["X-Vobiz-Signature-V3"]).toBeUndefined();
    expect(call.kind, call.xml).toBe("dial");
    expect(await decisionOf(w.t.tenantId, call.callUuid)).toBe("bridged");
  });

  it("the hangup notice and the Dial action of a sub-account call are accepted too", async () => {
    const w = await world();
    const sim = subAccountSim(w, { hangupUrl: w.t.app.hangupUrl });
    const call = await sim.placeCall({ from: w.a, to: w.dA });
    expect(call.kind, call.xml).toBe("dial");
    const done = await sim.completeCall(call, { dialStatus: "completed", durationSeconds: 42 });
    expect(done.dialAction?.status, done.dialAction?.body).toBe(200);
    expect(done.hangup.status, done.hangup.body).toBe(200);
  });

  it("refuses a sub-account call whose MA signature uses a parent token the app does not hold, and writes no row", async () => {
    const w = await world();
    const call = await subAccountSim(w, { parentAuthToken: "another-main-account" }).placeCall({ from: w.a, to: w.dA });
    expectForbidden(call.request);
    expect(await decisionOf(w.t.tenantId, call.callUuid)).toBeUndefined();
  });

  it("refuses a replay of a nonce first accepted through the MA signature", async () => {
    const w = await world();
    const sim = subAccountSim(w);
    const first = await sim.placeCall({ from: w.a, to: w.dA });
    expect(first.kind, first.xml).toBe("dial");
    const replay = await sim.placeCall({ from: w.b, to: w.dB, nonce: first.request.nonce! });
    expectForbidden(replay.request);
    expect(await decisionOf(w.t.tenantId, replay.callUuid)).toBeUndefined();
  });
});
