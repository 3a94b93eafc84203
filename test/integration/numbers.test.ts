import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/harness.js";
import { expectInvisibleToOtherTenant, expectNotListed, problemOf } from "../support/isolation.js";
import { createSession, people, uniqueDids, type Schemas } from "../support/fixtures.js";
import { lockPickedDids } from "../../server/src/stores/sessions.js";

type MaskingNumber = Schemas["MaskingNumber"];
type NumberList = Schemas["NumberList"];

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => server?.stop());

async function newApp(apiKey: string, extra: Record<string, unknown> = {}) {
  const res = await server.request("/v1/apps", {
    method: "POST",
    apiKey,
    json: { name: "App", vobizAuthId: "MA_TEST", vobizAuthToken: "vobiz-test-token", ...extra },
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

async function tenantWithApp() {
  const t = await server.createTenant();
  return { ...t, appId: await newApp(t.apiKey) };
}

const importNumbers = (apiKey: string, json: Record<string, unknown>) => server.request("/v1/numbers", { method: "POST", apiKey, json });

async function imported(apiKey: string, json: Record<string, unknown>) {
  const res = await importNumbers(apiKey, json);
  const text = await res.text();
  expect(res.status, text).toBe(201);
  return (JSON.parse(text) as { data: MaskingNumber[] }).data;
}

async function activeClaims(e164s: string[]) {
  return server.deps.db("number_claims").whereIn("e164", e164s).select("e164", "tenant_id", "number_id");
}

describe("importing numbers", () => {
  it("imports DIDs into the default pool, normalised to E.164 and deduplicated", async () => {
    const t = await tenantWithApp();
    const [a, b] = uniqueDids(2);
    const national = `0${a!.slice(3)}`; // the app's country (IN) reads national format
    const data = await imported(t.apiKey, { appId: t.appId, numbers: [a, national, ` ${b!.slice(0, 5)} ${b!.slice(5)} `] });
    expect(data.map((n) => n.number)).toEqual([a, b]);
    for (const n of data) {
      expect(n.id).toMatch(/^num_/);
      expect(n).toMatchObject({ appId: t.appId, pool: "default", status: "active" });
      expect(Math.abs(Date.parse(n.createdAt) - Date.now())).toBeLessThan(60_000);
    }
    expect(new Set(data.map((n) => n.id)).size).toBe(2);
    const claims = await activeClaims([a!, b!]);
    expect(claims).toHaveLength(2);
    for (const c of claims) expect(c.tenant_id).toBe(t.tenantId);
  });

  it("refuses invalid numbers with 422 listing every bad one, writing nothing", async () => {
    const t = await tenantWithApp();
    const [good] = uniqueDids(1);
    const res = await importNumbers(t.apiKey, { appId: t.appId, numbers: [good, "12345", "not-a-phone", "+15550100123"] });
    expect(res.status).toBe(422);
    const problem = await problemOf(res);
    expect(problem.code).toBe("validation_failed");
    expect(problem.errors?.map((e) => e.path)).toEqual(["/body/numbers/1", "/body/numbers/2", "/body/numbers/3"]);
    expect(await activeClaims([good!])).toHaveLength(0);
    expect(((await (await server.request("/v1/numbers", { apiKey: t.apiKey })).json()) as NumberList).data).toEqual([]);
  });

  it.each([
    [{ numbers: ["+919000000001"] }, "/body/appId"],
    [{ appId: "app_x" }, "/body/numbers"],
    [{ appId: "app_x", numbers: [] }, "/body/numbers"],
    [{ appId: "app_x", numbers: ["+919000000001"], pool: "bad pool!" }, "/body/pool"],
    [{ appId: "app_x", numbers: ["+919000000001"], extra: true }, "/body/extra"],
  ])("refuses %j with 422 at %s", async (json, path) => {
    const t = await tenantWithApp();
    const res = await importNumbers(t.apiKey, json);
    expect(res.status).toBe(422);
    expect((await problemOf(res)).errors?.map((e) => e.path)).toContain(path);
  });

  it("answers 404 for an unknown app", async () => {
    const t = await tenantWithApp();
    const res = await importNumbers(t.apiKey, { appId: "app_missing", numbers: uniqueDids(1) });
    expect(res.status).toBe(404);
    expect((await problemOf(res)).code).toBe("not_found");
  });

  it("re-imports a DID already in the same app and pool unchanged, alongside new ones", async () => {
    const t = await tenantWithApp();
    const [a, b] = uniqueDids(2);
    const [first] = await imported(t.apiKey, { appId: t.appId, numbers: [a], pool: "riders" });
    const again = await imported(t.apiKey, { appId: t.appId, numbers: [b, a], pool: "riders" });
    expect(again[1]).toEqual(first);
    expect(again[0]).toMatchObject({ number: b, pool: "riders", status: "active" });
    const count = await server.deps.db("numbers").where({ tenant_id: t.tenantId }).count({ n: "*" }).first();
    expect(Number(count!.n)).toBe(2);
  });

  it("refuses a DID another tenant holds with 409, without saying who holds it, and writes nothing", async () => {
    const holder = await tenantWithApp();
    const other = await tenantWithApp();
    const [taken, free] = uniqueDids(2);
    await imported(holder.apiKey, { appId: holder.appId, numbers: [taken] });
    const res = await importNumbers(other.apiKey, { appId: other.appId, numbers: [free, taken] });
    expect(res.status).toBe(409);
    const problem = await problemOf(res);
    expect(problem.code).toBe("conflict");
    expect(problem.detail).toContain("numbers[1]");
    const text = JSON.stringify(problem);
    expect(text).not.toContain(holder.tenantId);
    expect(text).not.toContain(holder.appId);
    expect(text).not.toMatch(/num_/);
    // All or nothing: the free DID was not imported either.
    expect(await activeClaims([free!])).toHaveLength(0);
    const claim = await activeClaims([taken!]);
    expect(claim[0]!.tenant_id).toBe(holder.tenantId);
  });

  it("refuses a DID the same tenant holds in another app or another pool", async () => {
    const t = await tenantWithApp();
    const otherApp = await newApp(t.apiKey, { name: "Second" });
    const [did] = uniqueDids(1);
    const [original] = await imported(t.apiKey, { appId: t.appId, numbers: [did], pool: "p1" });

    const otherPool = await importNumbers(t.apiKey, { appId: t.appId, numbers: [did], pool: "p2" });
    expect(otherPool.status).toBe(409);
    expect((await problemOf(otherPool)).code).toBe("conflict");

    const viaOtherApp = await importNumbers(t.apiKey, { appId: otherApp, numbers: [did], pool: "p3" });
    expect(viaOtherApp.status).toBe(409);
    expect((await problemOf(viaOtherApp)).code).toBe("conflict");

    const unchanged = (await (await server.request(`/v1/numbers/${original!.id}`, { apiKey: t.apiKey })).json()) as MaskingNumber;
    expect(unchanged).toEqual(original);
  });

  it("keeps a pool to one app: importing into another app's pool is a 409 until that app's numbers are released", async () => {
    const t = await tenantWithApp();
    const appB = await newApp(t.apiKey, { name: "B" });
    const [a, b] = uniqueDids(2);
    const [numA] = await imported(t.apiKey, { appId: t.appId, numbers: [a], pool: "shared" });
    const res = await importNumbers(t.apiKey, { appId: appB, numbers: [b], pool: "shared" });
    expect(res.status).toBe(409);
    expect((await problemOf(res)).code).toBe("conflict");
    expect(await activeClaims([b!])).toHaveLength(0);

    expect((await server.request(`/v1/numbers/${numA!.id}`, { method: "DELETE", apiKey: t.apiKey })).status).toBe(204);
    const [numB] = await imported(t.apiKey, { appId: appB, numbers: [b], pool: "shared" });
    expect(numB).toMatchObject({ appId: appB, pool: "shared" });
  });

  it("lets exactly one of two tenants importing the same DID at once win", async () => {
    for (let round = 0; round < 5; round++) {
      const [x, y] = [await tenantWithApp(), await tenantWithApp()];
      const dids = uniqueDids(3);
      const results = await Promise.all([
        importNumbers(x.apiKey, { appId: x.appId, numbers: dids }),
        importNumbers(y.apiKey, { appId: y.appId, numbers: [...dids].reverse() }),
      ]);
      const statuses = results.map((r) => r.status).sort();
      expect(statuses).toEqual([201, 409]);
      const loser = results.find((r) => r.status === 409)!;
      expect((await problemOf(loser)).code).toBe("conflict");
      const claims = await activeClaims(dids);
      expect(claims).toHaveLength(3);
      const winner = results[0]!.status === 201 ? x : y;
      for (const c of claims) expect(c.tenant_id).toBe(winner.tenantId);
      const loserTenant = winner === x ? y : x;
      const loserRows = await server.deps.db("numbers").where({ tenant_id: loserTenant.tenantId }).count({ n: "*" }).first();
      expect(Number(loserRows!.n)).toBe(0);
    }
  });

  it("treats the same import sent twice at once as one (both 201, same numbers)", async () => {
    const t = await tenantWithApp();
    const dids = uniqueDids(3);
    const [r1, r2] = await Promise.all([importNumbers(t.apiKey, { appId: t.appId, numbers: dids }), importNumbers(t.apiKey, { appId: t.appId, numbers: dids })]);
    expect([r1!.status, r2!.status]).toEqual([201, 201]);
    const [b1, b2] = (await Promise.all([r1!.json(), r2!.json()])) as Array<{ data: MaskingNumber[] }>;
    expect(b1!.data).toEqual(b2!.data);
  });

  it("lets only one of two apps take a new pool at once", async () => {
    const t = await tenantWithApp();
    const appB = await newApp(t.apiKey, { name: "B" });
    const [a, b] = uniqueDids(2);
    const results = await Promise.all([
      importNumbers(t.apiKey, { appId: t.appId, numbers: [a], pool: "race" }),
      importNumbers(t.apiKey, { appId: appB, numbers: [b], pool: "race" }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
    const apps = await server.deps.db("numbers").where({ tenant_id: t.tenantId, pool: "race", status: "active" }).distinct("app_id");
    expect(apps).toHaveLength(1);
  });
});

describe("reading numbers", () => {
  it("lists with pool, appId and status filters, newest first, page by page", async () => {
    const t = await tenantWithApp();
    const appB = await newApp(t.apiKey, { name: "B" });
    const inA = await imported(t.apiKey, { appId: t.appId, numbers: uniqueDids(3), pool: "alpha" });
    const inB = await imported(t.apiKey, { appId: appB, numbers: uniqueDids(2), pool: "beta" });
    expect((await server.request(`/v1/numbers/${inA[0]!.id}`, { method: "DELETE", apiKey: t.apiKey })).status).toBe(204);

    const list = async (qs: string) => {
      const res = await server.request(`/v1/numbers${qs}`, { apiKey: t.apiKey });
      expect(res.status).toBe(200);
      return (await res.json()) as NumberList;
    };
    const all = await list("");
    expect(all.data).toHaveLength(5);
    expect(all.data.map((n) => n.id)).toEqual([...all.data.map((n) => n.id)].sort().reverse());
    expect((await list("?pool=alpha")).data.map((n) => n.id).sort()).toEqual(inA.map((n) => n.id).sort());
    expect((await list(`?appId=${appB}`)).data.map((n) => n.id).sort()).toEqual(inB.map((n) => n.id).sort());
    expect((await list("?status=released")).data.map((n) => n.id)).toEqual([inA[0]!.id]);
    expect((await list("?pool=alpha&status=active")).data).toHaveLength(2);
    expect((await list("?pool=nothing")).data).toEqual([]);

    const p1 = await list("?limit=2");
    expect(p1.data).toHaveLength(2);
    const p2 = await list(`?limit=2&cursor=${p1.nextCursor}`);
    const p3 = await list(`?limit=2&cursor=${p2.nextCursor}`);
    expect(p3.nextCursor).toBeNull();
    expect([...p1.data, ...p2.data, ...p3.data].map((n) => n.id)).toEqual(all.data.map((n) => n.id));

    expect((await server.request("/v1/numbers?status=reserved", { apiKey: t.apiKey })).status).toBe(422);
    expect((await server.request("/v1/numbers?cursor=nope", { apiKey: t.apiKey })).status).toBe(422);
  });

  it("gets a number, and answers 404 for an unknown one", async () => {
    const t = await tenantWithApp();
    const [n] = await imported(t.apiKey, { appId: t.appId, numbers: uniqueDids(1) });
    const res = await server.request(`/v1/numbers/${n!.id}`, { apiKey: t.apiKey });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(n);
    const missing = await server.request("/v1/numbers/num_missing", { apiKey: t.apiKey });
    expect(missing.status).toBe(404);
    expect((await problemOf(missing)).code).toBe("not_found");
  });
});

describe("releasing numbers", () => {
  it("refuses while an open session uses the DID, releases after close, and the DID can be imported again", async () => {
    const t = await tenantWithApp();
    const [did] = uniqueDids(1);
    const [num] = await imported(t.apiKey, { appId: t.appId, numbers: [did] });
    const [p1, p2] = people(2);
    const opened = await createSession(server, t.apiKey, { participants: [{ number: p1 }, { number: p2 }] });
    expect(opened.status).toBe(201);
    const session = (await opened.json()) as { id: string; participants: Array<{ proxyNumber: string }> };
    expect(session.participants.map((p) => p.proxyNumber)).toEqual([did, did]);

    const refused = await server.request(`/v1/numbers/${num!.id}`, { method: "DELETE", apiKey: t.apiKey });
    expect(refused.status).toBe(409);
    expect((await problemOf(refused)).code).toBe("conflict");
    expect(((await (await server.request(`/v1/numbers/${num!.id}`, { apiKey: t.apiKey })).json()) as MaskingNumber).status).toBe("active");
    expect(await activeClaims([did!])).toHaveLength(1);

    expect((await server.request(`/v1/sessions/${session.id}/close`, { method: "POST", apiKey: t.apiKey })).status).toBe(200);
    expect((await server.request(`/v1/numbers/${num!.id}`, { method: "DELETE", apiKey: t.apiKey })).status).toBe(204);
    const released = (await (await server.request(`/v1/numbers/${num!.id}`, { apiKey: t.apiKey })).json()) as MaskingNumber;
    expect(released).toEqual({ ...num, status: "released" });
    const row = await server.deps.db("numbers").where({ id: num!.id }).first();
    expect(row.released_at).toBeInstanceOf(Date);
    expect(await activeClaims([did!])).toHaveLength(0);
    // Releasing twice is fine.
    expect((await server.request(`/v1/numbers/${num!.id}`, { method: "DELETE", apiKey: t.apiKey })).status).toBe(204);

    // The pool has no DIDs left for new sessions.
    const none = await createSession(server, t.apiKey, { participants: [{ number: p1 }, { number: p2 }] });
    expect([404, 409]).toContain(none.status);

    // Another tenant may now import it; the old row stays released in the first tenant's history.
    const other = await tenantWithApp();
    const [again] = await imported(other.apiKey, { appId: other.appId, numbers: [did] });
    expect(again!.id).not.toBe(num!.id);
    expect((await activeClaims([did!]))[0]!.tenant_id).toBe(other.tenantId);
    // And the first tenant cannot take it back while the other holds it.
    expect((await importNumbers(t.apiKey, { appId: t.appId, numbers: [did] })).status).toBe(409);
  });

  it("re-imports a released DID into the same tenant as a new number", async () => {
    const t = await tenantWithApp();
    const [did] = uniqueDids(1);
    const [num] = await imported(t.apiKey, { appId: t.appId, numbers: [did] });
    expect((await server.request(`/v1/numbers/${num!.id}`, { method: "DELETE", apiKey: t.apiKey })).status).toBe(204);
    const [back] = await imported(t.apiKey, { appId: t.appId, numbers: [did], pool: "other" });
    expect(back).toMatchObject({ number: did, pool: "other", status: "active" });
    expect(back!.id).not.toBe(num!.id);
  });

  it("releases a DID whose session expired before the sweeper ran, freeing the stale participant rows", async () => {
    const t = await tenantWithApp();
    const [did] = uniqueDids(1);
    const [num] = await imported(t.apiKey, { appId: t.appId, numbers: [did] });
    const opened = await createSession(server, t.apiKey, { participants: people(2).map((number) => ({ number })) });
    const { id } = (await opened.json()) as { id: string };
    await server.deps.db("sessions").where({ id }).update({ expires_at: new Date(Date.now() - 1000) });
    expect(await server.deps.db("participants").where({ session_id: id, active: true }).count({ n: "*" }).first()).toMatchObject({ n: 2 });

    expect((await server.request(`/v1/numbers/${num!.id}`, { method: "DELETE", apiKey: t.apiKey })).status).toBe(204);
    const stillActive = await server.deps.db("participants").where({ session_id: id, active: true }).count({ n: "*" }).first();
    expect(Number(stillActive!.n)).toBe(0);
  });

  it("waits for a session being written on the DID and then refuses (the check runs under the row lock)", async () => {
    const t = await tenantWithApp();
    const [did] = uniqueDids(1);
    const [num] = await imported(t.apiKey, { appId: t.appId, numbers: [did] });
    const db = server.deps.db;
    const trx = await db.transaction();
    let deleted: Promise<Response> | undefined;
    try {
      // What the allocator does: insert a session and its participants on the DID, not yet committed.
      const sessionId = `ses_race${Date.now()}`;
      await trx("sessions").insert({ id: sessionId, tenant_id: t.tenantId, app_id: t.appId, pool: "default", mode: "two_way", expires_at: new Date(Date.now() + 60_000) });
      await trx("participants").insert(
        [0, 1].map((position) => ({
          id: `par_race${Date.now()}${position}`,
          tenant_id: t.tenantId,
          session_id: sessionId,
          position,
          number_enc: server.deps.keys.encrypt(`+91988880000${position}`),
          number_bidx: `bidx-${sessionId}-${position}`,
          masked_number: "+91******0000",
          proxy_number_id: num!.id,
        })),
      );
      deleted = server.request(`/v1/numbers/${num!.id}`, { method: "DELETE", apiKey: t.apiKey });
      await new Promise((r) => setTimeout(r, 200));
      await trx.commit();
    } catch (err) {
      await trx.rollback();
      throw err;
    }
    const res = await deleted!;
    expect(res.status).toBe(409);
    expect(((await (await server.request(`/v1/numbers/${num!.id}`, { apiKey: t.apiKey })).json()) as MaskingNumber).status).toBe("active");
  });

  it("offers the allocator a share lock that sees a release committed meanwhile", async () => {
    const t = await tenantWithApp();
    const nums = await imported(t.apiKey, { appId: t.appId, numbers: uniqueDids(2) });
    const ids = nums.map((n) => n.id);
    const lock = () => server.deps.db.transaction((trx) => lockPickedDids(trx, t.tenantId, ids[0]!, ids[1]!));
    expect([...(await lock())].sort()).toEqual([...ids].sort());
    expect((await server.request(`/v1/numbers/${ids[0]}`, { method: "DELETE", apiKey: t.apiKey })).status).toBe(204);
    expect([...(await lock())]).toEqual([ids[1]]);
  });
});

describe("tenant isolation", () => {
  it("hides numbers from another tenant on every route, and the intruder changes nothing", async () => {
    const owner = await tenantWithApp();
    const intruder = await tenantWithApp();
    const [did] = uniqueDids(1);
    const [num] = await imported(owner.apiKey, { appId: owner.appId, numbers: [did] });

    await expectInvisibleToOtherTenant(server, intruder.apiKey, [
      { method: "GET", path: `/v1/numbers/${num!.id}` },
      { method: "DELETE", path: `/v1/numbers/${num!.id}` },
      { method: "POST", path: "/v1/numbers", json: { appId: owner.appId, numbers: uniqueDids(1) } },
      { method: "GET", path: "/v1/numbers/num_never" },
    ]);
    await expectNotListed(server, intruder.apiKey, "/v1/numbers", [num!.id]);
    await expectNotListed(server, intruder.apiKey, `/v1/numbers?appId=${owner.appId}`, [num!.id]);

    const after = await server.request(`/v1/numbers/${num!.id}`, { apiKey: owner.apiKey });
    expect(await after.json()).toEqual(num);
    expect((await activeClaims([did!]))[0]).toMatchObject({ tenant_id: owner.tenantId, number_id: num!.id });
    const intruderRows = await server.deps.db("numbers").where({ tenant_id: intruder.tenantId }).count({ n: "*" }).first();
    expect(Number(intruderRows!.n)).toBe(0);
  });
});
