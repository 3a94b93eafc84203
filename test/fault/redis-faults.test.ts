/**
 * Redis is what replicas share and may lose; Postgres is the truth. With the test's own Redis killed, restarted
 * and flushed under an in-process server, calls keep connecting, creates keep working, a replayed nonce is still
 * refused, and a CallUUID that was answered keeps its reply, because nothing a call depends on lives only in Redis.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/harness.js";
import { startOwnedPostgres, startOwnedRedis, waitFor, within, type OwnedPostgres, type OwnedRedis } from "../support/owned/index.js";
import { DEFAULT_MESSAGES } from "../../server/src/domain/call-decision.js";
import type { VobizSimulator } from "../sim/vobiz-simulator.js";
import { apiClient, describeReply, type Api } from "./api.js";
import { expectBridged, expectForbidden, expectPoliteGoodbye } from "./calls.js";
import { PUBLIC_BASE_URL, carrierFor, carrierLink } from "./carrier.js";
import { settledCallRows } from "./rows.js";
import { describeWithOwnedServices } from "./suite.js";
import { liveSessionFrom, openSession, sessionBody, stranger, tenantWithPool, type LiveSession, type TenantWithPool } from "./world.js";
import { people } from "../support/fixtures.js";

describeWithOwnedServices("fault: the service's own Redis is killed, restarted and flushed", () => {
  let postgres: OwnedPostgres;
  let redis: OwnedRedis;
  let server: TestServer;
  let api: Api;
  let t: TenantWithPool;
  let live: LiveSession;
  let sim: VobizSimulator;

  beforeAll(async () => {
    [postgres, redis] = await Promise.all([startOwnedPostgres(), startOwnedRedis()]);
    server = await startTestServer({ env: { DATABASE_URL: postgres.url, REDIS_URL: redis.url, PUBLIC_BASE_URL } });
    api = apiClient(() => server.baseUrl);
    t = await tenantWithPool(api, { dids: 2 });
    live = await openSession(api, t);
    sim = carrierFor(t.app, carrierLink(() => server.baseUrl));
  }, 60_000);

  afterAll(async () => {
    const results = await Promise.allSettled([within(15_000, "stopping the in-process server", server?.stop() ?? Promise.resolve())]);
    await Promise.allSettled([redis?.stop(), postgres?.destroy()]);
    for (const r of results) if (r.status === "rejected") throw r.reason;
  }, 30_000);

  /** The call rows of one CallUUID as Postgres has them (`expected` of them awaited briefly). */
  const rowsOf = (callUuid: string, expected = 1) => settledCallRows(postgres, t.tenantId, [callUuid], expected);

  describe("while Redis is down (killed)", () => {
    let answeredBefore: { callUuid: string; xml: string };
    const createdDuringOutage: LiveSession[] = [];

    beforeAll(async () => {
      const call = await sim.placeCall({ from: live.a, to: live.dA });
      expectBridged(call, live.b, live.dB);
      answeredBefore = { callUuid: call.callUuid, xml: call.xml };
      await rowsOf(call.callUuid);
      await redis.kill();
    }, 30_000);

    it("a live session's calls are still bridged, both ways, within the answer budget", async () => {
      for (let i = 0; i < 3; i++) {
        expectBridged(await sim.placeCall({ from: live.a, to: live.dA }), live.b, live.dB);
        expectBridged(await sim.placeCall({ from: live.b, to: live.dB }), live.a, live.dA);
      }
    });

    it("session creates still answer 201, with and without an Idempotency-Key", async () => {
      for (const headers of [{}, { "Idempotency-Key": randomUUID() }] as Array<Record<string, string>>) {
        const [a, b] = people(2) as [string, string];
        const res = await api.request("/v1/sessions", { method: "POST", apiKey: t.apiKey, json: sessionBody(a, b), headers });
        expect(res.status, describeReply(res)).toBe(201);
        createdDuringOutage.push(liveSessionFrom(res.body, a, b));
      }
    });

    it("a session created during the outage connects both ways", async () => {
      expect(createdDuringOutage.length, "sessions created by the test before").toBeGreaterThan(0);
      for (const s of createdDuringOutage) {
        expectBridged(await sim.placeCall({ from: s.a, to: s.dA }), s.b, s.dB);
        expectBridged(await sim.placeCall({ from: s.b, to: s.dB }), s.a, s.dA);
      }
    });

    it("a nonce seen during the outage is refused when replayed with another CallUUID, and writes no row", async () => {
      const first = await sim.placeCall({ from: live.a, to: live.dA });
      expectBridged(first, live.b, live.dB);
      const replay = await sim.placeCall({ from: live.b, to: live.dB, nonce: first.request.nonce! });
      expectForbidden(replay.request);
      expect(await rowsOf(replay.callUuid, 0)).toEqual([]);
    });

    it("a CallUUID answered during the outage, re-sent with a fresh nonce, gets the same bytes and keeps one row", async () => {
      const callUuid = randomUUID();
      const first = await sim.placeCall({ from: live.a, to: live.dA, callUuid });
      expectBridged(first, live.b, live.dB);
      const again = await sim.placeCall({ from: live.a, to: live.dA, callUuid });
      expect(again.status).toBe(200);
      expect(again.xml).toBe(first.xml);
      expect(await rowsOf(callUuid)).toMatchObject([{ call_uuid: callUuid, decision: "bridged" }]);
    });

    it("a CallUUID answered before the outage, re-sent during it, gets its original bytes", async () => {
      const again = await sim.placeCall({ from: live.a, to: live.dA, callUuid: answeredBefore.callUuid });
      expect(again.status).toBe(200);
      expect(again.xml).toBe(answeredBefore.xml);
      expect(await rowsOf(answeredBefore.callUuid)).toHaveLength(1);
    });
  });

  describe("after Redis is restarted", () => {
    beforeAll(async () => {
      await redis.restart();
    }, 20_000);

    it("the service reconnects by itself and writes to Redis again", async () => {
      // Our own probe is one client; the service's connections must come back without anyone restarting it.
      await waitFor(
        "the service's Redis connections to come back",
        async () => {
          const info = await redis.command("INFO", "clients");
          const clients = Number(/connected_clients:(\d+)/.exec(info)?.[1] ?? 0);
          return clients >= 2 ? clients : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 200 },
      );
      await waitFor(
        "a call to leave its trace in the restarted Redis",
        async () => {
          expectBridged(await sim.placeCall({ from: live.a, to: live.dA }), live.b, live.dB);
          return Number(await redis.command("DBSIZE")) > 0 ? true : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 200 },
      );
    }, 40_000);

    it("calls connect, creates work, a replayed nonce is refused and a re-sent CallUUID replays its bytes", async () => {
      const first = await sim.placeCall({ from: live.b, to: live.dB });
      expectBridged(first, live.a, live.dA);
      expectForbidden((await sim.placeCall({ from: live.a, to: live.dA, nonce: first.request.nonce! })).request);
      const again = await sim.placeCall({ from: live.b, to: live.dB, callUuid: first.callUuid });
      expect(again.xml).toBe(first.xml);
      expect(await rowsOf(first.callUuid)).toHaveLength(1);
      const created = await openSession(api, t);
      expectBridged(await sim.placeCall({ from: created.b, to: created.dB }), created.a, created.dA);
    });
  });

  describe("after FLUSHALL", () => {
    it("a rejected CallUUID re-sent with another From stays rejected, with the same bytes and one row", async () => {
      const callUuid = randomUUID();
      const rejected = await sim.placeCall({ from: stranger(), to: live.dA, callUuid });
      expectPoliteGoodbye(rejected, DEFAULT_MESSAGES.notInService);
      expect(await rowsOf(callUuid)).toMatchObject([{ decision: "rejected_unknown_caller" }]);
      await redis.flushAll();
      // Now from a participant who *would* be bridged: the call was already answered, and stays as answered.
      const again = await sim.placeCall({ from: live.a, to: live.dA, callUuid });
      expect(again.status).toBe(200);
      expect(again.xml).toBe(rejected.xml);
      expect(await rowsOf(callUuid)).toMatchObject([{ decision: "rejected_unknown_caller" }]);
    });

    it("a bridged CallUUID re-sent with another From is the same bridge, with one row", async () => {
      const callUuid = randomUUID();
      const bridged = await sim.placeCall({ from: live.a, to: live.dA, callUuid });
      expectBridged(bridged, live.b, live.dB);
      await rowsOf(callUuid);
      await redis.flushAll();
      const again = await sim.placeCall({ from: stranger(), to: live.dA, callUuid });
      expect(again.status).toBe(200);
      expect(again.xml).toBe(bridged.xml);
      expect(await rowsOf(callUuid)).toMatchObject([{ decision: "bridged" }]);
    });

    it("nonces keep working: a fresh nonce is accepted once, and its replay with another CallUUID is refused", async () => {
      await redis.flushAll();
      const first = await sim.placeCall({ from: live.a, to: live.dA });
      expectBridged(first, live.b, live.dB);
      const replay = await sim.placeCall({ from: live.a, to: live.dA, nonce: first.request.nonce! });
      expectForbidden(replay.request);
      expect(await rowsOf(replay.callUuid, 0)).toEqual([]);
    });
  });
});
