import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, usingRealServices, type TestServer } from "../support/harness.js";
import { AUTH_TOKEN, createSession, people, tenantWithPool } from "../support/fixtures.js";
import { VobizSimulator } from "../sim/vobiz-simulator.js";

// Webhooks read apps from an in-memory cache; a change made through any replica must reach every replica's cache.
let first: TestServer;
let second: TestServer | null = null;
beforeAll(async () => {
  first = await startTestServer();
  // Embedded PGlite is one process: there the "other replica" is the same server.
  if (usingRealServices.postgres) second = await startTestServer();
});
afterAll(async () => {
  await second?.stop();
  await first?.stop();
});

describe("the webhook app cache", () => {
  it(`sees a rotated auth token at once on ${usingRealServices.postgres ? "another replica (shared Postgres and Redis)" : "the same server"}`, async () => {
    const other = second ?? first;
    const t = await tenantWithPool(first, { dids: 1 });
    const [a, b] = people(2);
    const session = (await (await createSession(first, t.apiKey, { participants: [{ number: a }, { number: b }] })).json()) as {
      participants: Array<{ proxyNumber: string }>;
    };
    const answerUrl = t.app.answerUrl.replace(first.baseUrl, other.baseUrl);
    const call = (token: string) =>
      new VobizSimulator({ authToken: token, answerUrl }).placeCall({ from: a!, to: session.participants[0]!.proxyNumber });

    expect((await call(AUTH_TOKEN)).kind).toBe("dial"); // warms the other replica's cache
    const rotated = await first.request(`/v1/apps/${t.app.id}`, { method: "PATCH", apiKey: t.apiKey, json: { vobizAuthToken: "rotated-token" } });
    expect(rotated.status).toBe(200);
    // Pub/sub delivery is asynchronous: allow it a moment, far less than the cache's TTL.
    await new Promise((r) => setTimeout(r, 100));
    const withOld = await call(AUTH_TOKEN);
    expect(withOld.status).toBe(403);
    const withNew = await call("rotated-token");
    expect(withNew.kind).toBe("dial");
  });
});
