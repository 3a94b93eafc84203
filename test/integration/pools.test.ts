import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/harness.js";
import { expectInvisibleToOtherTenant, expectNotListed, problemOf } from "../support/isolation.js";
import { createSession, people, tenantWithPool, uniqueDids, type Schemas } from "../support/fixtures.js";

type Pool = Schemas["Pool"];

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => server?.stop());

async function getPool(apiKey: string, pool: string) {
  const res = await server.request(`/v1/pools/${pool}`, { apiKey });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return JSON.parse(text) as Pool;
}

async function open(apiKey: string, a: string, b: string, pool = "default") {
  const res = await createSession(server, apiKey, { participants: [{ number: a }, { number: b }], pool });
  const text = await res.text();
  expect(res.status, text).toBe(201);
  return JSON.parse(text) as { id: string; participants: Array<{ proxyNumber: string }> };
}

describe("pool figures", () => {
  it("reports DIDs, open sessions and the busiest person's concurrency", async () => {
    const t = await tenantWithPool(server, { dids: 3 });
    expect(await getPool(t.apiKey, "default")).toMatchObject({
      pool: "default",
      numbers: 3,
      activeSessions: 0,
      busiestParticipantSessions: 0,
      headroom: 3,
      utilisation: 0,
    });

    const [driver, rider1, rider2, x, y] = people(5);
    const s1 = await open(t.apiKey, driver!, rider1!);
    await open(t.apiKey, driver!, rider2!);
    await open(t.apiKey, x!, y!);
    expect(await getPool(t.apiKey, "default")).toMatchObject({
      pool: "default",
      numbers: 3,
      activeSessions: 3,
      busiestParticipantSessions: 2,
      headroom: 1,
      utilisation: 2 / 3,
    });

    // Closing one of the driver's sessions brings the busiest back to 1.
    expect((await server.request(`/v1/sessions/${s1.id}/close`, { method: "POST", apiKey: t.apiKey })).status).toBe(200);
    expect(await getPool(t.apiKey, "default")).toMatchObject({ activeSessions: 2, busiestParticipantSessions: 1, headroom: 2, utilisation: 1 / 3 });
  });

  it("counts a session past its expiry as ended even before the sweeper marks it", async () => {
    const t = await tenantWithPool(server, { dids: 2 });
    const [a, b, c] = people(3);
    const s1 = await open(t.apiKey, a!, b!);
    await open(t.apiKey, a!, c!);
    expect(await getPool(t.apiKey, "default")).toMatchObject({ activeSessions: 2, busiestParticipantSessions: 2, headroom: 0, utilisation: 1 });
    await server.deps.db("sessions").where({ id: s1.id }).update({ expires_at: new Date(Date.now() - 1000) });
    expect(await getPool(t.apiKey, "default")).toMatchObject({ activeSessions: 1, busiestParticipantSessions: 1, headroom: 1, utilisation: 0.5 });
  });

  it("keeps pools apart and counts only active DIDs", async () => {
    const t = await tenantWithPool(server, { dids: 2, pool: "north" });
    const south = await server.request("/v1/numbers", { method: "POST", apiKey: t.apiKey, json: { appId: t.app.id, numbers: uniqueDids(4), pool: "south" } });
    expect(south.status).toBe(201);
    const southNumbers = ((await south.json()) as { data: Array<{ id: string; number: string }> }).data;
    const [a, b, c] = people(3);
    await open(t.apiKey, a!, b!, "north");
    const inSouth = await open(t.apiKey, a!, c!, "south");
    // Release one south DID the open session does not use.
    const unused = southNumbers.find((n) => !inSouth.participants.some((p) => p.proxyNumber === n.number))!;
    expect((await server.request(`/v1/numbers/${unused.id}`, { method: "DELETE", apiKey: t.apiKey })).status).toBe(204);

    const north = await getPool(t.apiKey, "north");
    expect(north).toMatchObject({ pool: "north", numbers: 2, activeSessions: 1, busiestParticipantSessions: 1, headroom: 1, utilisation: 0.5 });
    const southFigures = await getPool(t.apiKey, "south");
    expect(southFigures).toMatchObject({ pool: "south", numbers: 3, activeSessions: 1, busiestParticipantSessions: 1, headroom: 2, utilisation: 1 / 3 });

    const list = await server.request("/v1/pools", { apiKey: t.apiKey });
    expect(list.status).toBe(200);
    const body = (await list.json()) as { data: Pool[] };
    expect(body.data).toEqual([north, southFigures]);
  });

  it("still reports a pool whose numbers were all released (numbers 0, utilisation 0)", async () => {
    const t = await tenantWithPool(server, { dids: 1, pool: "gone" });
    const [num] = ((await (await server.request("/v1/numbers?pool=gone", { apiKey: t.apiKey })).json()) as { data: Array<{ id: string }> }).data;
    expect((await server.request(`/v1/numbers/${num!.id}`, { method: "DELETE", apiKey: t.apiKey })).status).toBe(204);
    expect(await getPool(t.apiKey, "gone")).toMatchObject({
      pool: "gone",
      numbers: 0,
      activeSessions: 0,
      busiestParticipantSessions: 0,
      headroom: 0,
      utilisation: 0,
    });
    expect(((await (await server.request("/v1/pools", { apiKey: t.apiKey })).json()) as { data: Pool[] }).data.map((p) => p.pool)).toEqual(["gone"]);
  });

  it("answers 404 for a pool the tenant never had, and 422 for an invalid pool name", async () => {
    const t = await tenantWithPool(server);
    const missing = await server.request("/v1/pools/nowhere", { apiKey: t.apiKey });
    expect(missing.status).toBe(404);
    expect((await problemOf(missing)).code).toBe("not_found");
    const bad = await server.request("/v1/pools/-bad", { apiKey: t.apiKey });
    expect(bad.status).toBe(422);
    expect((await problemOf(bad)).errors?.[0]?.path).toBe("/path/pool");
  });

  it("lists no pools for a tenant without numbers", async () => {
    const { apiKey } = await server.createTenant();
    const res = await server.request("/v1/pools", { apiKey });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: [], nextCursor: null });
  });

  it("pages the pool list by name with a cursor, each pool's figures its own", async () => {
    const t = await tenantWithPool(server, { dids: 1, pool: "p-c" });
    for (const [pool, dids] of [["p-a", 2], ["p-e", 1], ["p-b", 3], ["p-d", 1]] as const) {
      const res = await server.request("/v1/numbers", { method: "POST", apiKey: t.apiKey, json: { appId: t.app.id, numbers: uniqueDids(dids), pool } });
      expect(res.status).toBe(201);
    }
    const [a, b] = people(2);
    await open(t.apiKey, a!, b!, "p-b");

    const seen: Pool[] = [];
    const cursors: Array<string | null> = [];
    let cursor: string | null = null;
    do {
      const res = await server.request(`/v1/pools?limit=2${cursor ? `&cursor=${cursor}` : ""}`, { apiKey: t.apiKey });
      expect(res.status).toBe(200);
      const page = (await res.json()) as { data: Pool[]; nextCursor: string | null };
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data);
      cursor = page.nextCursor;
      cursors.push(cursor);
    } while (cursor);
    expect(seen.map((p) => p.pool)).toEqual(["p-a", "p-b", "p-c", "p-d", "p-e"]);
    expect(cursors.filter((c) => c !== null)).toHaveLength(2);
    expect(seen.find((p) => p.pool === "p-b")).toMatchObject({ pool: "p-b", numbers: 3, activeSessions: 1, busiestParticipantSessions: 1, headroom: 2, utilisation: 1 / 3 });
    expect(seen.find((p) => p.pool === "p-a")).toMatchObject({ numbers: 2, activeSessions: 0 });

    const bad = await server.request("/v1/pools?cursor=nope", { apiKey: t.apiKey });
    expect(bad.status).toBe(422);
    expect((await problemOf(bad)).code).toBe("validation_failed");
    expect((await server.request("/v1/pools?limit=0", { apiKey: t.apiKey })).status).toBe(422);
  });
});

describe("tenant isolation", () => {
  it("hides a pool from another tenant, whose own pool of the same name shows only its own figures", async () => {
    const owner = await tenantWithPool(server, { dids: 3, pool: `own-${Date.now()}` });
    const [a, b] = people(2);
    await open(owner.apiKey, a!, b!, owner.pool);
    const before = await getPool(owner.apiKey, owner.pool);

    const intruder = await server.createTenant();
    await expectInvisibleToOtherTenant(server, intruder.apiKey, [
      { method: "GET", path: `/v1/pools/${owner.pool}` },
      { method: "GET", path: "/v1/pools/never-was" },
    ]);
    const list = (await (await server.request("/v1/pools", { apiKey: intruder.apiKey })).json()) as { data: Pool[] };
    expect(list.data).toEqual([]);
    // Pools have no id; the list helper must still find none of the owner's numbers through the intruder.
    const ownerNumbers = ((await (await server.request("/v1/numbers", { apiKey: owner.apiKey })).json()) as { data: Array<{ id: string }> }).data;
    await expectNotListed(server, intruder.apiKey, `/v1/numbers?pool=${owner.pool}`, ownerNumbers.map((n) => n.id));

    // Same pool name in another tenant: separate figures.
    const other = await tenantWithPool(server, { dids: 1, pool: owner.pool });
    expect(await getPool(other.apiKey, owner.pool)).toMatchObject({
      pool: owner.pool,
      numbers: 1,
      activeSessions: 0,
      busiestParticipantSessions: 0,
      headroom: 1,
      utilisation: 0,
    });
    expect(await getPool(owner.apiKey, owner.pool)).toEqual(before);
  });
});
