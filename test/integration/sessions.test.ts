import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectNoRealNumbers } from "../support/privacy.js";
import { startTestServer, type TestServer } from "../support/harness.js";
import { expectInvisibleToOtherTenant, expectNotListed, problemOf } from "../support/isolation.js";
import { createSession, people, tenantWithPool, type Schemas } from "../support/fixtures.js";
import { SCHEMA_DEFAULTS } from "../../openapi/generated/constants.js";
import { expireSessions, purgeExpiredData } from "../../server/src/jobs/sweeper.js";
import { createTestClock } from "../support/clock.js";
import { createSession as createSessionDirect } from "../../server/src/services/sessions.js";
import { releaseNumber } from "../../server/src/services/numbers.js";
import type { Deps } from "../../server/src/deps.js";

type Session = Schemas["Session"];
const CREATE_DEFAULTS = SCHEMA_DEFAULTS.CreateSessionRequest;

let server: TestServer;
const realNumbersSeen: string[] = [];
// Expiry without sleeping: a session opened with the clock set back has already expired once the clock is back.
const clock = createTestClock();
async function inThePast<T>(ms: number, work: () => Promise<T>): Promise<T> {
  clock.shift(-ms);
  try {
    return await work();
  } finally {
    clock.reset();
  }
}
beforeAll(async () => {
  server = await startTestServer({ clock });
});
afterAll(async () => {
  // Privacy: not one real number in any log line of this whole file's traffic.
  expectNoRealNumbers(server.logs.join(""), realNumbersSeen);
  await server?.stop();
});

const open = async (apiKey: string, body: Record<string, unknown>, headers: Record<string, string> = {}) => {
  const numbers = (body.participants as Array<{ number: string }>).map((p) => p.number);
  realNumbersSeen.push(...numbers);
  const res = await createSession(server, apiKey, body, headers);
  const text = await res.text();
  for (const n of numbers) expect(text).not.toContain(n);
  return { status: res.status, body: JSON.parse(text) as Session & Partial<Pick<Schemas["Problem"], "code" | "detail" | "participant">> };
};

/** The invariant, checked in SQL: no (tenant, DID, person) appears twice among active participant rows. */
async function invariantViolations(tenantId: string) {
  const rows = await server.deps.db("participants")
    .select("proxy_number_id", "number_bidx")
    .count({ n: "*" })
    .where({ tenant_id: tenantId, active: true })
    .groupBy("proxy_number_id", "number_bidx")
    .havingRaw("count(*) > 1");
  return rows.length;
}

describe("creating sessions", () => {
  it("opens a two-way session with masked participants and proxy DIDs from the pool", async () => {
    const t = await tenantWithPool(server, { dids: 2 });
    const [a, b] = people(2);
    const { status, body } = await open(t.apiKey, {
      participants: [{ number: a, label: "agent" }, { number: b, label: "customer" }],
      reference: "order-8812",
      metadata: { city: "BLR" },
      ttlSeconds: 1800,
    });
    expect(status).toBe(201);
    expect(body).toMatchObject({ status: "open", mode: CREATE_DEFAULTS.mode, pool: CREATE_DEFAULTS.pool, appId: t.app.id, reference: "order-8812", metadata: { city: "BLR" }, closedAt: null });
    expect(body.id).toMatch(/^ses_/);
    expect(Math.abs(Date.parse(body.expiresAt) - Date.now() - 1800_000)).toBeLessThan(10_000);
    expect(body.participants.map((p) => p.label)).toEqual(["agent", "customer"]);
    expect(body.participants[0]!.maskedNumber).toBe(`+91******${a!.slice(-4)}`);
    for (const p of body.participants) expect(t.dids).toContain(p.proxyNumber);
  });

  it("accepts national-format numbers of the app's country", async () => {
    const t = await tenantWithPool(server);
    const [a, b] = people(2);
    const { status, body } = await open(t.apiKey, { participants: [{ number: `0${a!.slice(3)}` }, { number: b!.slice(1) }] });
    expect(status).toBe(201);
    expect(body.participants[0]!.maskedNumber?.endsWith(a!.slice(-4))).toBe(true);
  });

  it.each([
    [{ participants: [{ number: "+919888800001" }] }, "/body/participants"],
    [{ participants: [{ number: "+919888800001" }, { number: "+919888800001" }] }, "/body/participants/1/number"],
    [{ participants: [{ number: "not-a-number" }, { number: "+919888800002" }] }, "/body/participants/0/number"],
    [{ participants: [{ number: "+919888800001" }, { number: "+919888800002" }], ttlSeconds: 0 }, "/body/ttlSeconds"],
    [{ participants: [{ number: "+919888800001" }, { number: "+919888800002" }], mode: "three_way" }, "/body/mode"],
    [{ participants: [{ number: "+919888800001" }, { number: "+919888800002" }], extra: 1 }, "/body/extra"],
  ])("refuses %j with 422 at %s, without echoing numbers", async (json, path) => {
    const t = await tenantWithPool(server);
    const res = await createSession(server, t.apiKey, json);
    const problem = await problemOf(res);
    expect(res.status).toBe(422);
    expect(problem.code).toBe("validation_failed");
    expect(problem.errors?.map((e) => e.path)).toContain(path);
    expect(JSON.stringify(problem)).not.toContain("9888800001");
  });

  it("answers 404 for a pool with no numbers, naming the pool, and allocates nothing", async () => {
    const t = await tenantWithPool(server);
    const res = await createSession(server, t.apiKey, { participants: [{ number: "+919888800001" }, { number: "+919888800002" }], pool: "nowhere" });
    expect(res.status).toBe(404);
    const problem = await problemOf(res);
    expect(problem.code).toBe("not_found");
    expect(problem.detail).toContain("'nowhere'");
    expect(await server.deps.db("participants").where({ tenant_id: t.tenantId }).first()).toBeUndefined();
  });

  it("keeps a person on the DID they had last time (sticky)", async () => {
    const t = await tenantWithPool(server, { dids: 5 });
    const [agent, c1, c2] = people(3);
    const first = await open(t.apiKey, { participants: [{ number: agent }, { number: c1 }] });
    await server.request(`/v1/sessions/${first.body.id}/close`, { method: "POST", apiKey: t.apiKey });
    const second = await open(t.apiKey, { participants: [{ number: agent }, { number: c2 }] });
    expect(second.body.participants[0]!.proxyNumber).toBe(first.body.participants[0]!.proxyNumber);
  });

  it("shares two DIDs across 200 sessions of 400 different people", async () => {
    const t = await tenantWithPool(server, { dids: 2 });
    const crowd = people(400);
    for (let i = 0; i < 200; i++) {
      const { status } = await open(t.apiKey, { participants: [{ number: crowd[2 * i] }, { number: crowd[2 * i + 1] }] });
      expect(status).toBe(201);
    }
    expect(await invariantViolations(t.tenantId)).toBe(0);
    const pool = (await (await server.request("/v1/pools/default", { apiKey: t.apiKey })).json()) as Record<string, number>;
    expect(pool).toMatchObject({ numbers: 2, activeSessions: 200, busiestParticipantSessions: 1, headroom: 1 });
  });
});

describe("the allocation invariant under races", () => {
  it("never puts one person on a DID twice: exactly pool-size creates succeed, the rest are pool_exhausted", async () => {
    const poolSize = 3;
    const t = await tenantWithPool(server, { dids: poolSize });
    const [shared, ...others] = people(13);
    const results = await Promise.all(
      others.map((other, i) => open(t.apiKey, { participants: [{ number: shared, label: "driver" }, { number: other, label: `rider-${i}` }] })),
    );
    const created = results.filter((r) => r.status === 201);
    const exhausted = results.filter((r) => r.status === 409);
    expect(created).toHaveLength(poolSize);
    expect(exhausted).toHaveLength(others.length - poolSize);
    for (const r of exhausted) {
      expect(r.body.code).toBe("pool_exhausted");
      expect(r.body.detail).toContain("participants[0] (driver)");
      expect(r.body.detail).not.toContain(shared!.slice(-8));
    }
    const sharedDids = created.map((r) => r.body.participants[0]!.proxyNumber);
    expect(new Set(sharedDids).size).toBe(poolSize);
    expect(await invariantViolations(t.tenantId)).toBe(0);

    // Closing one frees exactly one slot for the shared person.
    await server.request(`/v1/sessions/${created[0]!.body.id}/close`, { method: "POST", apiKey: t.apiKey });
    const [late] = people(1, 500);
    const next = await open(t.apiKey, { participants: [{ number: shared }, { number: late }] });
    expect(next.status).toBe(201);
    expect(next.body.participants[0]!.proxyNumber).toBe(created[0]!.body.participants[0]!.proxyNumber);
    const again = await open(t.apiKey, { participants: [{ number: shared }, { number: people(1, 900)[0] }] });
    expect(again.status).toBe(409);
    expect(await invariantViolations(t.tenantId)).toBe(0);
  });

  it("names who ran out in the problem's participant member: their position, and their label or null", async () => {
    const t = await tenantWithPool(server, { dids: 1 });
    const [busy, a, b] = people(3);
    expect((await open(t.apiKey, { participants: [{ number: a }, { number: busy, label: "courier" }] })).status).toBe(201);
    const labelled = await open(t.apiKey, { participants: [{ number: b }, { number: busy, label: "courier" }] });
    expect(labelled.status).toBe(409);
    expect(labelled.body).toMatchObject({ code: "pool_exhausted", participant: { position: 1, label: "courier" } });
    const unlabelled = await open(t.apiKey, { participants: [{ number: busy }, { number: b }] });
    expect(unlabelled.body).toMatchObject({ code: "pool_exhausted", participant: { position: 0, label: null } });
  });

  it("a lost race on one participant's DID never refuses the other: concurrent pairings that fit all succeed", async () => {
    for (let round = 0; round < 10; round++) {
      const t = await tenantWithPool(server, { dids: 2 });
      const [x, y, p, q] = people(4);
      const results = await Promise.all([
        open(t.apiKey, { participants: [{ number: x }, { number: p }] }),
        open(t.apiKey, { participants: [{ number: y }, { number: q }] }),
        open(t.apiKey, { participants: [{ number: x }, { number: y }] }),
      ]);
      expect(results.map((r) => r.status)).toEqual([201, 201, 201]);
      expect(await invariantViolations(t.tenantId)).toBe(0);
    }
  });

  it("runs concurrent duplicates with one Idempotency-Key once", async () => {
    const t = await tenantWithPool(server, { dids: 4 });
    const [a, b] = people(2);
    const body = { participants: [{ number: a }, { number: b }], reference: "dup" };
    const results = await Promise.all(Array.from({ length: 8 }, () => open(t.apiKey, body, { "idempotency-key": "order-1-open" })));
    expect(results.every((r) => r.status === 201)).toBe(true);
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    const count = await server.deps.db("sessions").where({ tenant_id: t.tenantId }).count({ n: "*" }).first();
    expect(Number(count!.n)).toBe(1);

    const replay = await open(t.apiKey, body, { "idempotency-key": "order-1-open" });
    expect(replay.status).toBe(201);
    expect(replay.body.id).toBe(results[0]!.body.id);
    const changed = await createSession(server, t.apiKey, { ...body, reference: "other" }, { "idempotency-key": "order-1-open" });
    expect(changed.status).toBe(409);
    expect((await problemOf(changed)).code).toBe("idempotency_conflict");
  });
});

describe("session lifecycle", () => {
  it("closes idempotently and releases the participants", async () => {
    const t = await tenantWithPool(server);
    const { body } = await open(t.apiKey, { participants: [{ number: people(1)[0] }, { number: people(1, 7)[0] }] });
    const first = await server.request(`/v1/sessions/${body.id}/close`, { method: "POST", apiKey: t.apiKey });
    expect(first.status).toBe(200);
    const closed = (await first.json()) as Session;
    expect(closed.status).toBe("closed");
    expect(closed.closedAt).toEqual(expect.any(String));
    const second = (await (await server.request(`/v1/sessions/${body.id}/close`, { method: "POST", apiKey: t.apiKey })).json()) as Session;
    expect(second).toEqual(closed);
    const active = await server.deps.db("participants").where({ session_id: body.id, active: true }).count({ n: "*" }).first();
    expect(Number(active!.n)).toBe(0);
    expect((await server.request(`/v1/sessions/ses_missing/close`, { method: "POST", apiKey: t.apiKey })).status).toBe(404);
  });

  it("extends with PATCH (ttl from now), replaces metadata, and refuses to revive a closed session", async () => {
    const t = await tenantWithPool(server);
    const { body } = await open(t.apiKey, { participants: [{ number: people(1)[0] }, { number: people(1, 3)[0] }], ttlSeconds: 60, metadata: { a: "1" } });
    const res = await server.request(`/v1/sessions/${body.id}`, { method: "PATCH", apiKey: t.apiKey, json: { ttlSeconds: 7200, metadata: { b: "2" } } });
    expect(res.status).toBe(200);
    const patched = (await res.json()) as Session;
    expect(Math.abs(Date.parse(patched.expiresAt) - Date.now() - 7200_000)).toBeLessThan(10_000);
    expect(patched.metadata).toEqual({ b: "2" });
    expect((await server.request(`/v1/sessions/${body.id}`, { method: "PATCH", apiKey: t.apiKey, json: {} })).status).toBe(422);
    await server.request(`/v1/sessions/${body.id}/close`, { method: "POST", apiKey: t.apiKey });
    const revive = await server.request(`/v1/sessions/${body.id}`, { method: "PATCH", apiKey: t.apiKey, json: { ttlSeconds: 60 } });
    expect(revive.status).toBe(409);
    expect((await problemOf(revive)).code).toBe("conflict");
  });

  /** The server's deps as seen by a replica whose clock runs `ms` ahead: it sees sessions expire that early. */
  const replicaAhead = (ms: number): Deps => ({ ...server.deps, clock: { now: () => new Date(Date.now() + ms) } });
  const activeCount = async (sessionId: string) =>
    Number((await server.deps.db("participants").where({ session_id: sessionId, active: true }).count({ n: "*" }).first())!.n);

  it("refuses to extend a session that an allocation on another replica already released at its expiry", async () => {
    const t = await tenantWithPool(server, { dids: 2 });
    const [a, b, c] = people(3);
    const { body } = await open(t.apiKey, { participants: [{ number: a }, { number: b }], ttlSeconds: 60 });
    realNumbersSeen.push(c!);
    // A replica two minutes ahead opens a session for `a`: to it, `a`'s first session has ended, so it releases it.
    await createSessionDirect(replicaAhead(120_000), t.tenantId, { pool: t.pool, participants: [{ number: a! }, { number: c! }] });
    expect(await activeCount(body.id)).toBe(1);

    const res = await server.request(`/v1/sessions/${body.id}`, { method: "PATCH", apiKey: t.apiKey, json: { ttlSeconds: 3600 } });
    expect(res.status).toBe(409);
    expect((await problemOf(res)).code).toBe("conflict");
    const after = (await (await server.request(`/v1/sessions/${body.id}`, { apiKey: t.apiKey })).json()) as Session;
    expect(after.expiresAt).toBe(body.expiresAt);
  });

  /**
   * Runs `work` while an extension of `sessionId` is in flight (row locked FOR UPDATE, new expiry written, not yet
   * committed) and proves it waits for that commit: it must still be running 300 ms in. On Postgres that wait is
   * the row lock (without it these tests fail); the embedded database has one connection, which serialises the
   * two anyway, so there they show the same outcome without exercising the lock.
   */
  async function whileExtending<T>(sessionId: string, work: () => Promise<T>): Promise<PromiseSettledResult<T>> {
    const extension = await server.deps.db.transaction();
    try {
      await extension("sessions").where({ id: sessionId }).forUpdate().first();
      await extension("sessions").where({ id: sessionId }).update({ expires_at: new Date(Date.now() + 3_600_000) });
      const running = work();
      running.catch(() => undefined);
      const first = await Promise.race([running.then(() => "finished", () => "finished"), sleep(300).then(() => "waiting")]);
      expect(first).toBe("waiting");
      await extension.commit();
      const [settled] = await Promise.allSettled([running]);
      return settled!;
    } finally {
      if (!extension.isCompleted()) await extension.rollback();
    }
  }

  it(
    "an allocation at a session's expiry waits for a concurrent extension and leaves the extended session routing",
    async () => {
      const t = await tenantWithPool(server, { dids: 2 });
      const [a, b, c] = people(3);
      const { body } = await open(t.apiKey, { participants: [{ number: a }, { number: b }], ttlSeconds: 60 });
      realNumbersSeen.push(c!);
      // To a replica two minutes ahead the session has ended, so its allocation for `a` would release it.
      const created = await whileExtending(body.id, () =>
        createSessionDirect(replicaAhead(120_000), t.tenantId, { pool: t.pool, participants: [{ number: a! }, { number: c! }] }),
      );
      if (created.status !== "fulfilled") throw created.reason;

      // The extension won: the session keeps both participants, so `a` got the other DID for the new session.
      expect(await activeCount(body.id)).toBe(2);
      expect(created.value.participants[0]!.proxyNumber).not.toBe(body.participants[0]!.proxyNumber);
      expect(await invariantViolations(t.tenantId)).toBe(0);
    },
  );

  it(
    "releasing a number at a session's expiry waits for a concurrent extension and then refuses (409)",
    async () => {
      const t = await tenantWithPool(server, { dids: 2 });
      const [a, b] = people(2);
      const { body } = await open(t.apiKey, { participants: [{ number: a }, { number: b }], ttlSeconds: 60 });
      const did = await server.deps.db("numbers").where({ tenant_id: t.tenantId, e164: body.participants[0]!.proxyNumber }).first();
      const released = await whileExtending(body.id, () => releaseNumber(replicaAhead(120_000), t.tenantId, did.id));

      expect(released.status).toBe("rejected");
      expect((released as PromiseRejectedResult).reason).toMatchObject({ code: "conflict" });
      expect(await activeCount(body.id)).toBe(2);
      expect((await server.deps.db("numbers").where({ id: did.id }).first()).status).toBe("active");
    },
  );

  it("reads expired once expires_at passes, and frees the DID for the next session without the sweeper", async () => {
    const t = await tenantWithPool(server, { dids: 1 });
    const [driver, r1, r2] = people(3);
    const short = await inThePast(5_000, async () => {
      const opened = await open(t.apiKey, { participants: [{ number: driver }, { number: r1 }], ttlSeconds: 1 });
      expect(opened.status).toBe(201);
      // Still open at that instant: the only DID is taken.
      expect((await open(t.apiKey, { participants: [{ number: driver }, { number: r2 }] })).status).toBe(409);
      return opened;
    });
    const got = (await (await server.request(`/v1/sessions/${short.body.id}`, { apiKey: t.apiKey })).json()) as Session;
    expect(got.status).toBe("expired");
    const listed = (await (await server.request(`/v1/sessions?status=expired`, { apiKey: t.apiKey })).json()) as { data: Session[] };
    expect(listed.data.map((s) => s.id)).toContain(short.body.id);
    const next = await open(t.apiKey, { participants: [{ number: driver }, { number: r2 }] });
    expect(next.status).toBe(201);
    expect(await invariantViolations(t.tenantId)).toBe(0);
  });

  it("closing an expired session leaves it expired and releases it", async () => {
    const t = await tenantWithPool(server);
    const { body } = await inThePast(5_000, () =>
      open(t.apiKey, { participants: [{ number: people(1)[0] }, { number: people(1, 4)[0] }], ttlSeconds: 1 }),
    );
    const res = await server.request(`/v1/sessions/${body.id}/close`, { method: "POST", apiKey: t.apiKey });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Session).status).toBe("expired");
    const active = await server.deps.db("participants").where({ session_id: body.id, active: true }).count({ n: "*" }).first();
    expect(Number(active!.n)).toBe(0);
  });

  it("the sweeper marks expired sessions and releases their participants", async () => {
    const t = await tenantWithPool(server);
    const { body } = await inThePast(5_000, () =>
      open(t.apiKey, { participants: [{ number: people(1)[0] }, { number: people(1, 9)[0] }], ttlSeconds: 1 }),
    );
    // What the recurring sessions.expire job runs (test/integration/job-runner-outcomes.test.ts runs it through the runner).
    expect(await expireSessions(server.deps)).toBeGreaterThanOrEqual(1);
    const row = await server.deps.db("sessions").where({ id: body.id }).first();
    expect(row.status).toBe("expired");
    const active = await server.deps.db("participants").where({ session_id: body.id, active: true }).count({ n: "*" }).first();
    expect(Number(active!.n)).toBe(0);
  });

  it("purges ended sessions past the tenant's retention, with their encrypted numbers and events, and nothing else", async () => {
    const t = await tenantWithPool(server);
    const keep = await tenantWithPool(server);
    expect((await server.request("/v1/settings", { method: "PATCH", apiKey: t.apiKey, json: { retentionDays: 1 } })).status).toBe(200);
    const old = await open(t.apiKey, { participants: [{ number: people(1)[0] }, { number: people(1, 5)[0] }] });
    const live = await open(t.apiKey, { participants: [{ number: people(1)[0] }, { number: people(1, 6)[0] }] });
    const other = await open(keep.apiKey, { participants: [{ number: people(1)[0] }, { number: people(1, 8)[0] }] });
    for (const id of [old.body.id, other.body.id]) await server.request(`/v1/sessions/${id}/close`, { method: "POST", apiKey: id === old.body.id ? t.apiKey : keep.apiKey });
    const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
    await server.deps.db("sessions").whereIn("id", [old.body.id, other.body.id]).update({ closed_at: twoDaysAgo });
    // Their events (created, closed) age with them; the live session's stay young.
    const eventsOf = (tenantId: string, sessionId: string) =>
      server.deps.db("events").where({ tenant_id: tenantId }).whereRaw("data->>'id' = ?", [sessionId]);
    for (const [tenantId, id] of [[t.tenantId, old.body.id], [keep.tenantId, other.body.id]] as const) {
      expect((await eventsOf(tenantId, id)).length).toBeGreaterThanOrEqual(2);
      await eventsOf(tenantId, id).update({ created_at: twoDaysAgo });
    }

    const purged = await purgeExpiredData(server.deps);
    expect(purged?.sessions).toBeGreaterThanOrEqual(1);
    expect(await server.deps.db("sessions").where({ id: old.body.id }).first()).toBeUndefined();
    expect(await server.deps.db("participants").where({ session_id: old.body.id }).first()).toBeUndefined();
    // Another tenant keeps the default retention; an open session is never purged.
    expect(await server.deps.db("sessions").where({ id: other.body.id }).first()).toBeDefined();
    expect(await server.deps.db("sessions").where({ id: live.body.id }).first()).toBeDefined();
    // Events follow the same retention: the old session's go, the other tenant's and the live session's stay.
    expect(purged?.events).toBeGreaterThanOrEqual(2);
    expect(await eventsOf(t.tenantId, old.body.id)).toEqual([]);
    expect((await eventsOf(keep.tenantId, other.body.id)).length).toBeGreaterThanOrEqual(2);
    expect((await eventsOf(t.tenantId, live.body.id)).length).toBeGreaterThanOrEqual(1);
  });

  it("lists with status and reference filters and pages with a cursor", async () => {
    const t = await tenantWithPool(server, { dids: 3 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { body } = await open(t.apiKey, { participants: [{ number: people(1)[0] }, { number: people(1, 1)[0] }], reference: i % 2 ? "odd" : "even" });
      ids.push(body.id);
    }
    await server.request(`/v1/sessions/${ids[0]}/close`, { method: "POST", apiKey: t.apiKey });
    const page1 = (await (await server.request(`/v1/sessions?limit=2`, { apiKey: t.apiKey })).json()) as { data: Session[]; nextCursor: string };
    expect(page1.data.map((s) => s.id)).toEqual([ids[4], ids[3]]);
    const page2 = (await (await server.request(`/v1/sessions?limit=2&cursor=${page1.nextCursor}`, { apiKey: t.apiKey })).json()) as { data: Session[] };
    expect(page2.data.map((s) => s.id)).toEqual([ids[2], ids[1]]);
    const odd = (await (await server.request(`/v1/sessions?reference=odd`, { apiKey: t.apiKey })).json()) as { data: Session[] };
    expect(odd.data.map((s) => s.id).sort()).toEqual([ids[1], ids[3]].sort());
    const closed = (await (await server.request(`/v1/sessions?status=closed`, { apiKey: t.apiKey })).json()) as { data: Session[] };
    expect(closed.data.map((s) => s.id)).toEqual([ids[0]]);
    const openOnes = (await (await server.request(`/v1/sessions?status=open`, { apiKey: t.apiKey })).json()) as { data: Session[] };
    expect(openOnes.data).toHaveLength(4);
  });
});

describe("tenant isolation", () => {
  it("another tenant gets 404 on every session route and never lists the session", async () => {
    const owner = await tenantWithPool(server);
    const intruder = await tenantWithPool(server);
    const { body } = await open(owner.apiKey, { participants: [{ number: people(1)[0] }, { number: people(1, 2)[0] }] });
    await expectInvisibleToOtherTenant(server, intruder.apiKey, [
      { method: "GET", path: `/v1/sessions/${body.id}` },
      { method: "PATCH", path: `/v1/sessions/${body.id}`, json: { ttlSeconds: 5 } },
      { method: "POST", path: `/v1/sessions/${body.id}/close` },
    ]);
    await expectNotListed(server, intruder.apiKey, "/v1/sessions", [body.id]);
    const still = (await (await server.request(`/v1/sessions/${body.id}`, { apiKey: owner.apiKey })).json()) as Session;
    expect(still.status).toBe("open");
    expect(still.expiresAt).toBe(body.expiresAt);
  });

  it("a tenant cannot draw on another tenant's pool, even one of the same name", async () => {
    const owner = await tenantWithPool(server, { pool: "shared-name" });
    const intruder = await tenantWithPool(server, { pool: "shared-name" });
    // The owner's pool is loaded (and cached) first, so a lookup that lost the tenant would hand out its DIDs.
    const owned = await open(owner.apiKey, { participants: [{ number: people(1)[0] }, { number: people(1, 3)[0] }], pool: "shared-name" });
    expect(owned.status).toBe(201);
    const drawn = await open(intruder.apiKey, { participants: [{ number: people(1)[0] }, { number: people(1, 4)[0] }], pool: "shared-name" });
    expect(drawn.status).toBe(201);
    expect(drawn.body.appId).toBe(intruder.app.id);
    expect(drawn.body.participants.map((p) => p.proxyNumber).sort()).toEqual([...intruder.dids].sort());

    // A pool name only another tenant has is not found, and allocates nothing.
    const lonely = await tenantWithPool(server, { pool: "owner-only" });
    const refused = await open(intruder.apiKey, { participants: [{ number: people(1)[0] }, { number: people(1, 5)[0] }], pool: "owner-only" });
    expect(refused.status).toBe(404);
    expect(refused.body).toMatchObject({ code: "not_found" });
    expect(refused.body.detail).toContain("owner-only");
    const intruderRows = await server.deps.db("participants").where({ tenant_id: intruder.tenantId }).count({ n: "*" }).first();
    expect(Number(intruderRows!.n)).toBe(2);
    expect(await server.deps.db("participants").where({ tenant_id: lonely.tenantId }).first()).toBeUndefined();
  });
});
