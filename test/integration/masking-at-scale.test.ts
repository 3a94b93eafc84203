import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/harness.js";
import { AUTH_TOKEN, createSession, people, tenantWithPool, type Schemas } from "../support/fixtures.js";
import { VobizSimulator } from "../sim/vobiz-simulator.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => server?.stop());

type Session = Schemas["Session"];

describe("the seed's two-row lookup, generalised", () => {
  it("routes 200 sessions between 400 people over 2 DIDs, both ways, each seeing one consistent number", async () => {
    const t = await tenantWithPool(server, { dids: 2 });
    const carrier = new VobizSimulator({ authToken: AUTH_TOKEN, answerUrl: t.app.answerUrl, hangupUrl: t.app.hangupUrl });
    const crowd = people(400);
    const pairs: Array<{ a: string; b: string; session: Session }> = [];
    for (let i = 0; i < 200; i++) {
      const a = crowd[2 * i]!;
      const b = crowd[2 * i + 1]!;
      const res = await createSession(server, t.apiKey, { participants: [{ number: a }, { number: b }] });
      expect(res.status).toBe(201);
      pairs.push({ a, b, session: (await res.json()) as Session });
    }
    const didsUsed = new Set(pairs.flatMap((p) => p.session.participants.map((x) => x.proxyNumber)));
    expect([...didsUsed].sort()).toEqual([...t.dids].sort());

    // Calls in small parallel batches; every one must bridge to the right person with the right caller ID.
    for (let i = 0; i < pairs.length; i += 20) {
      await Promise.all(
        pairs.slice(i, i + 20).map(async ({ a, b, session }) => {
          const [pa, pb] = session.participants;
          const aCalls = await carrier.placeCall({ from: a, to: pa!.proxyNumber });
          expect(aCalls.kind).toBe("dial");
          expect(aCalls.dial?.numbers).toEqual([b]);
          expect(aCalls.dial?.callerId).toBe(pb!.proxyNumber); // b sees a as pb's DID…
          const bCalls = await carrier.placeCall({ from: b, to: pb!.proxyNumber });
          expect(bCalls.kind).toBe("dial");
          expect(bCalls.dial?.numbers).toEqual([a]);
          expect(bCalls.dial?.callerId).toBe(pa!.proxyNumber); // …and a sees b as pa's DID: one number each way.
        }),
      );
    }
    const rows = await server.deps.db("calls").where({ tenant_id: t.tenantId, decision: "bridged" }).count({ n: "*" }).first();
    expect(Number(rows!.n)).toBe(400);
  });
});
