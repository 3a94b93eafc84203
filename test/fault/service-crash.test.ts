/**
 * The real service, as a child process on the test's own Postgres and Redis, is killed with SIGKILL in the middle
 * of concurrent session creates and answered calls, then started again on the same databases. Whatever a client
 * was told before the crash must still be true afterwards: every 201 session connects both ways, every answered
 * call has its row with the decision it was answered with, every create retried with its Idempotency-Key gives the
 * same session (or, when its response was lost, exactly one), and nothing is left stuck.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { TEST_ADMIN_TOKEN, TEST_MASTER_KEY, TEST_SIGNING_KEY } from "../support/env.js";
import {
  startOwnedPostgres,
  startOwnedRedis,
  startServiceProcess,
  waitFor,
  type OwnedPostgres,
  type OwnedRedis,
  type ServiceProcess,
} from "../support/owned/index.js";
import { people } from "../support/fixtures.js";
import type { VobizSimulator } from "../sim/vobiz-simulator.js";
import { apiClient, describeReply, type Api } from "./api.js";
import { expectBridged } from "./calls.js";
import { PUBLIC_BASE_URL, carrierFor, carrierLink } from "./carrier.js";
import { callRowsFor, countSessionsByReference } from "./rows.js";
import { describeWithOwnedServices } from "./suite.js";
import { startTraffic, type CreateAttempt, type Traffic } from "./traffic.js";
import { liveSessionFrom, openSession, sessionBody, tenantWithPool, type LiveSession, type TenantWithPool } from "./world.js";

/** The crash lands once this much has been answered, so it is mid-traffic, not before it. */
const CREATES_BEFORE_KILL = 30;
const ANSWERS_BEFORE_KILL = 60;
/** "Readiness is 200 within seconds" of starting the new process. */
const READY_AFTER_RESTART_MS = 20_000;
/** A retried create may wait on its first attempt's claim; longer than this is stuck. */
const RETRY_TIMEOUT_MS = 20_000;

/** Runs `work` over `items`, `width` at a time (the machine has two cores; the service needs them too). */
async function inBatches<T, R>(items: T[], width: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += width) out.push(...(await Promise.all(items.slice(i, i + width).map(work))));
  return out;
}

describeWithOwnedServices("fault: the service is killed with SIGKILL under concurrent creates and answers", () => {
  let postgres: OwnedPostgres;
  let redis: OwnedRedis;
  const started: ServiceProcess[] = [];
  const service = () => started[started.length - 1]!;
  let api: Api;
  let sim: VobizSimulator;
  let t: TenantWithPool;
  let traffic: Traffic;
  let killedBy: NodeJS.Signals | null = null;
  let readyAfterRestartMs = Number.NaN;

  const startService = async () => {
    const env = {
      DATABASE_URL: postgres.url,
      REDIS_URL: redis.url,
      MASKLINE_MASTER_KEY: TEST_MASTER_KEY,
      MASKLINE_SIGNING_KEY: TEST_SIGNING_KEY,
      MASKLINE_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      PUBLIC_BASE_URL,
      LOG_LEVEL: "warn",
      // Not under test here, and a refused create would only blur what the crash did.
      MASKLINE_RATE_LIMIT_PER_SECOND: "0",
    };
    const proc = await startServiceProcess({ env });
    started.push(proc);
    return proc;
  };

  beforeAll(async () => {
    [postgres, redis] = await Promise.all([startOwnedPostgres(), startOwnedRedis()]);
    await (await startService()).waitReady(60_000);
    api = apiClient(() => service().baseUrl);
    t = await tenantWithPool(api, { dids: 4 });
    sim = carrierFor(t.app, carrierLink(() => service().baseUrl));
    const liveSessions: LiveSession[] = [];
    for (let i = 0; i < 10; i++) liveSessions.push(await openSession(api, t));

    traffic = startTraffic({ api, tenant: t, sim, liveSessions, createWorkers: 4, answerWorkers: 4 });
    try {
      await waitFor(
        `${CREATES_BEFORE_KILL} creates and ${ANSWERS_BEFORE_KILL} answers before the kill`,
        async () =>
          traffic.creates.length >= CREATES_BEFORE_KILL && traffic.answers.length >= ANSWERS_BEFORE_KILL ? true : undefined,
        { timeoutMs: 60_000, intervalMs: 5 },
      );
    } finally {
      const exited = service().kill("SIGKILL");
      const settled = traffic.stop();
      killedBy = (await exited).signal;
      await settled;
    }

    const restartedAt = performance.now();
    await (await startService()).waitReady(60_000);
    readyAfterRestartMs = performance.now() - restartedAt;
  }, 180_000);

  afterAll(async () => {
    await Promise.allSettled(started.map((s) => s.stop()));
    await Promise.allSettled([redis?.stop(), postgres?.destroy()]);
  }, 60_000);

  const created = () => traffic.creates.filter((c) => c.status === 201);
  const lostCreates = () => traffic.creates.filter((c) => c.status === 0);
  const decided = () => traffic.answers.filter((a) => a.outcome === "bridged" || a.outcome === "rejected");

  it("the kill landed mid-traffic: requests had been served correctly and others were cut off", () => {
    expect(killedBy).toBe("SIGKILL");
    // Counted when the kill was triggered: these had all been answered before it.
    expect(traffic.creates.filter((c) => c.status !== 0).length).toBeGreaterThanOrEqual(CREATES_BEFORE_KILL);
    expect(traffic.answers.filter((a) => a.outcome !== "lost").length).toBeGreaterThanOrEqual(ANSWERS_BEFORE_KILL);
    const cutOff = lostCreates().length + traffic.answers.filter((a) => a.outcome === "lost").length;
    expect(cutOff, "requests in flight at the kill").toBeGreaterThan(0);
    // Before the crash every create was a 201 and every call got XML: anything else is a bug of its own.
    const unexpectedCreates = traffic.creates.filter((c) => c.status !== 201 && c.status !== 0).map((c) => `${c.status} ${c.error}`);
    const unexpectedAnswers = traffic.answers.filter((a) => a.outcome === "unexpected").map((a) => `${a.call.status} ${a.call.xml.slice(0, 200)}`);
    expect({ unexpectedCreates, unexpectedAnswers }).toEqual({ unexpectedCreates: [], unexpectedAnswers: [] });
  });

  it("the restarted service is ready within seconds, and a new create and a new call work", async () => {
    expect(readyAfterRestartMs, "ms from start to /readyz 200").toBeLessThan(READY_AFTER_RESTART_MS);
    const fresh = await openSession(api, t);
    expectBridged(await sim.placeCall({ from: fresh.a, to: fresh.dA }), fresh.b, fresh.dB);
    expectBridged(await sim.placeCall({ from: fresh.b, to: fresh.dB }), fresh.a, fresh.dA);
  });

  it("every session that got a 201 routes both ways: each party is bridged to the other, seeing their DID", async () => {
    const failures = (
      await inBatches(created(), 4, async (c) => {
        const [dA, dB] = c.proxyNumbers!;
        const there = await sim.placeCall({ from: c.a, to: dA });
        const back = await sim.placeCall({ from: c.b, to: dB });
        const ok = (call: typeof there, number: string, callerId: string) =>
          call.status === 200 && call.kind === "dial" && call.dial?.numbers[0] === number && call.dial?.callerId === callerId;
        if (ok(there, c.b, dB) && ok(back, c.a, dA)) return null;
        return `${c.sessionId}: a→dA ${there.status} ${there.kind}; b→dB ${back.status} ${back.kind}`;
      })
    ).filter((f) => f !== null);
    expect(failures).toEqual([]);
  }, 60_000);

  it("every call answered before the kill has its row, with the decision it was answered with", async () => {
    const rows = new Map((await callRowsFor(postgres, t.tenantId)).map((r) => [r.call_uuid, r.decision]));
    const answered = decided();
    const mismatches = answered
      .map((a) => {
        const expected = a.outcome === "bridged" ? "bridged" : "rejected_unknown_caller";
        const actual = rows.get(a.call.callUuid) ?? "(no row)";
        return actual === expected ? null : { callUuid: a.call.callUuid, answered: expected, row: actual };
      })
      .filter((m) => m !== null);
    const unavailable = traffic.answers.filter((a) => a.outcome === "unavailable").length;
    expect(mismatches, `${answered.length} answered with a decision (${unavailable} more got "unavailable")`).toEqual([]);
  });

  it("each create retried with its Idempotency-Key returns the same session; a lost one makes exactly one", async () => {
    const retry = async (c: CreateAttempt) => {
      const res = await api.request("/v1/sessions", {
        method: "POST",
        apiKey: t.apiKey,
        json: c.body,
        headers: { "Idempotency-Key": c.idempotencyKey },
        timeoutMs: RETRY_TIMEOUT_MS,
      });
      if (c.status === 201 && (res.status !== 201 || res.body?.id !== c.sessionId)) {
        return `answered ${c.sessionId}, retry: ${res.status === 201 ? `201 ${res.body.id}` : describeReply(res)}`;
      }
      if (c.status === 0 && res.status !== 201) return `lost ${c.reference}, retry: ${describeReply(res)}`;
      return null;
    };
    const attempts = [...created(), ...lostCreates()];
    const retryFailures = (await inBatches(attempts, 8, retry)).filter((f) => f !== null);
    const counts = await countSessionsByReference(postgres, t.tenantId);
    const notExactlyOne = attempts
      .map((c) => ({ reference: c.reference, firstAnswer: c.status, sessions: counts.get(c.reference) ?? 0 }))
      .filter((c) => c.sessions !== 1);
    expect({ retryFailures, notExactlyOne }, `${created().length} answered 201, ${lostCreates().length} lost`).toEqual({
      retryFailures: [],
      notExactlyOne: [],
    });
  }, 90_000);

  it("nothing is stuck: a create reusing nobody's key and a call on it work, and readiness stays 200", async () => {
    const [a, b] = people(2) as [string, string];
    const res = await api.request("/v1/sessions", {
      method: "POST",
      apiKey: t.apiKey,
      json: sessionBody(a, b),
      headers: { "Idempotency-Key": randomUUID() },
    });
    expect(res.status, describeReply(res)).toBe(201);
    const session = liveSessionFrom(res.body, a, b);
    expectBridged(await sim.placeCall({ from: a, to: session.dA }), b, session.dB);
    const ready = await api.request("/readyz");
    expect(ready.status, describeReply(ready)).toBe(200);
  });
  it("SIGTERM under traffic, with a webhook no carrier would send among it, stops the service within its grace", async () => {
    const [a, b] = people(2) as [string, string];
    const session = liveSessionFrom((await api.request("/v1/sessions", { method: "POST", apiKey: t.apiKey, json: sessionBody(a, b) })).body, a, b);
    // The request that once jammed the call-row writer for every tenant (and with it, shutdown).
    const bad = await sim.request(t.app.answerUrl, { CallUUID: "nul\u0000uuid", From: a, To: session.dA, Event: "StartApp" });
    expect(bad.status).toBe(422);
    const inFlight = Array.from({ length: 20 }, () => sim.placeCall({ from: a, to: session.dA }).catch(() => null));
    const started = performance.now();
    const exit = await service().kill("SIGTERM");
    await Promise.all(inFlight);
    expect(exit, service().logs().slice(-2_000)).toMatchObject({ code: 0 });
    expect(performance.now() - started).toBeLessThan(15_000);
  }, 60_000);
});
