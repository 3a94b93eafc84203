import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, usingRealServices, type TestServer } from "../support/harness.js";
import { problemOf } from "../support/isolation.js";
import { AUTH_TOKEN, createSession, people, tenantWithPool } from "../support/fixtures.js";
import { VobizSimulator } from "../sim/vobiz-simulator.js";

const LIMIT = 10;
let first: TestServer;
let second: TestServer | null = null;
beforeAll(async () => {
  const env = { MASKLINE_RATE_LIMIT_PER_SECOND: String(LIMIT) };
  first = await startTestServer({ env });
  // With Redis the counters are shared: a second replica counts against the same limit.
  if (usingRealServices.postgres && usingRealServices.redis) second = await startTestServer({ env });
});
afterAll(async () => {
  await second?.stop();
  await first?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Waits for the start of the next one-second window, so a short burst falls inside a single window. */
const atWindowStart = () => sleep(1000 - (Date.now() % 1000) + 20);

/** Fires `n` requests at once, alternating between the replicas, and counts the answers by status. */
async function burst(apiKey: string, n: number, path = "/v1/api-keys") {
  const servers = second ? [first, second] : [first];
  const responses = await Promise.all(Array.from({ length: n }, (_, i) => servers[i % servers.length]!.request(path, { apiKey })));
  const byStatus: Record<number, Response[]> = {};
  for (const res of responses) (byStatus[res.status] ??= []).push(res);
  return byStatus;
}

const replicas = usingRealServices.postgres && usingRealServices.redis ? "two replicas sharing Redis" : "one server";
describe(`the tenant API rate limit (${replicas})`, () => {
  it("lets the limit's worth of a burst through and refuses the rest with 429 rate_limited and Retry-After", async () => {
    const { apiKey } = await first.createTenant();
    await atWindowStart();
    const byStatus = await burst(apiKey, 30);
    const allowed = byStatus[200]?.length ?? 0;
    // Should the burst still straddle a second boundary, the sliding window lets a little more through, never double.
    expect(allowed).toBeGreaterThanOrEqual(LIMIT);
    expect(allowed).toBeLessThanOrEqual(LIMIT + 2);
    expect((byStatus[429]?.length ?? 0) + allowed).toBe(30);
    const refused = byStatus[429]![0]!;
    expect(refused.headers.get("content-type")).toContain("application/problem+json");
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(refused.headers.get("ratelimit-limit")).toBe(String(LIMIT));
    expect(refused.headers.get("ratelimit-remaining")).toBe("0");
    expect((await problemOf(refused)).code).toBe("rate_limited");
    expect(byStatus[200]![0]!.headers.get("ratelimit-limit")).toBe(String(LIMIT));
  });

  it("lets the client in again once the window has passed", async () => {
    const { apiKey } = await first.createTenant();
    await atWindowStart();
    expect((await burst(apiKey, 40))[429]?.length ?? 0).toBeGreaterThanOrEqual(40 - LIMIT - 2); // shut out first
    await sleep(2 * 1000);
    await atWindowStart();
    const byStatus = await burst(apiKey, LIMIT);
    expect(byStatus[200]?.length).toBe(LIMIT);
  });

  it("counts each tenant on its own: one tenant over its limit does not slow another", async () => {
    const noisy = await first.createTenant();
    const quiet = await first.createTenant();
    await atWindowStart();
    expect((await burst(noisy.apiKey, 30))[429]?.length ?? 0).toBeGreaterThanOrEqual(30 - LIMIT - 2);
    const byStatus = await burst(quiet.apiKey, LIMIT);
    expect(byStatus[200]?.length).toBe(LIMIT);
  });

  it("never limits carrier webhooks or the operator API", async () => {
    const t = await tenantWithPool(first, { dids: 1 });
    const [a, b] = people(2);
    const created = await createSession(first, t.apiKey, { participants: [{ number: a }, { number: b }] });
    expect(created.status).toBe(201);
    const session = (await created.json()) as { participants: Array<{ proxyNumber: string }> };
    expect((await burst(t.apiKey, 30))[429]?.length ?? 0).toBeGreaterThan(0); // the tenant is now over its API limit
    expect((await first.request("/v1/api-keys", { apiKey: t.apiKey })).status).toBe(429);

    const sim = new VobizSimulator({ authToken: AUTH_TOKEN, answerUrl: t.app.answerUrl });
    const calls = await Promise.all(Array.from({ length: 3 * LIMIT }, () => sim.placeCall({ from: a!, to: session.participants[0]!.proxyNumber })));
    expect(calls.map((c) => c.kind)).toEqual(Array(3 * LIMIT).fill("dial"));

    const admin = await Promise.all(
      Array.from({ length: 3 * LIMIT }, () => first.request("/v1/admin/tenants?limit=1", { headers: { authorization: `Bearer ${first.adminToken}` } })),
    );
    expect(admin.every((r) => r.status === 200)).toBe(true);
  });
});
