/**
 * Replay refusal holds without Redis: the replay guard falls back to its Postgres ledger when kv fails or hangs,
 * keeps writing the ledger for a replay window after, and tells the carrier's retries from replays either way.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../server/src/logging/logger.js";
import { startTestServer, type TestServer } from "../support/harness.js";
import { createReplayGuard } from "../../server/src/services/replay-guard.js";
import { createMemoryKv } from "../../server/src/kv/memory.js";
import type { Kv } from "../../server/src/kv/kv.js";
import { startDeadline } from "../../server/src/time/deadline.js";
import { NONCE_TTL_MS } from "../../server/src/domain/replay-window.js";

let server: TestServer;
let tenantId: string;
const silent = createLogger({ level: "silent" });

/** A kv that can be switched between working, refusing (Redis down) and hanging (Redis stopped answering). */
function switchableKv() {
  const inner = createMemoryKv();
  const state = { mode: "up" as "up" | "down" | "hung" | "late" };
  const kv: Kv = {
    ...inner,
    putIfAbsent: (key, value, ttl) =>
      state.mode === "up"
        ? inner.putIfAbsent(key, value, ttl)
        : state.mode === "down"
          ? Promise.reject(new Error("Stream isn't writeable and enableOfflineQueue options is false"))
          : state.mode === "late"
            ? new Promise((resolve) => setTimeout(resolve, 300)).then(() => inner.putIfAbsent(key, value, ttl))
            : new Promise<never>(() => undefined),
  };
  return { kv, state };
}

beforeAll(async () => {
  server = await startTestServer();
  tenantId = (await server.createTenant()).tenantId;
});
afterAll(async () => server?.stop());

const check = (guard: ReturnType<typeof createReplayGuard>, appId: string, nonce: string, fingerprint: string) =>
  guard.check({ tenantId, appId, nonce }, fingerprint, startDeadline(700));

describe("replay guard", () => {
  it("refuses a replay and lets a retry through with Redis down, through the Postgres ledger", async () => {
    const { kv, state } = switchableKv();
    const guard = createReplayGuard({ db: server.deps.db, kv, logger: silent });
    const appId = `app_${randomUUID()}`;
    state.mode = "down";
    expect(await check(guard, appId, "11111111111111111111", "answer|c1|StartApp")).toBe("fresh");
    expect(await check(guard, appId, "11111111111111111111", "answer|c1|StartApp")).toBe("retry");
    expect(await check(guard, appId, "11111111111111111111", "answer|c2|StartApp")).toBe("replay");
    expect(await server.deps.db("webhook_nonces").where({ tenant_id: tenantId, app_id: appId }).count({ n: "*" }).first()).toMatchObject({ n: 1 });
  });

  it("answers within the budget when Redis hangs, and still refuses replays", async () => {
    const { kv, state } = switchableKv();
    const guard = createReplayGuard({ db: server.deps.db, kv, logger: silent });
    const appId = `app_${randomUUID()}`;
    state.mode = "hung";
    const started = performance.now();
    expect(await check(guard, appId, "22222222222222222222", "answer|c1|StartApp")).toBe("fresh");
    expect(performance.now() - started).toBeLessThan(700);
    expect(await check(guard, appId, "22222222222222222222", "answer|c9|StartApp")).toBe("replay");
  });

  it("keeps refusing nonces first seen during an outage after Redis is back, for one replay window", async () => {
    let now = 1_000_000;
    const { kv, state } = switchableKv();
    const guard = createReplayGuard({ db: server.deps.db, kv, logger: silent, now: () => now });
    const appId = `app_${randomUUID()}`;
    state.mode = "down";
    expect(await check(guard, appId, "33333333333333333333", "answer|c1|StartApp")).toBe("fresh");
    state.mode = "up"; // Redis is back, empty: it never saw this nonce
    now += 60_000;
    expect(await check(guard, appId, "33333333333333333333", "answer|c2|StartApp")).toBe("replay");
    expect(await check(guard, appId, "44444444444444444444", "answer|c3|StartApp")).toBe("fresh");
    // Past the window, the fast path alone decides again (and the ledger is no longer written).
    now += NONCE_TTL_MS;
    expect(await check(guard, appId, "55555555555555555555", "answer|c4|StartApp")).toBe("fresh");
    expect(await server.deps.db("webhook_nonces").where({ tenant_id: tenantId, app_id: appId, nonce: "55555555555555555555" }).first()).toBeUndefined();
  });

  it("asks the ledger for a request Redis answers late, but leaves later requests to Redis once that write lands", async () => {
    const { kv, state } = switchableKv();
    const guard = createReplayGuard({ db: server.deps.db, kv, logger: silent });
    const appId = `app_${randomUUID()}`;
    state.mode = "late"; // answers after 300 ms: past the 150 ms step, but the nonce lands in Redis
    expect(await check(guard, appId, "77777777777777777777", "answer|c1|StartApp")).toBe("fresh");
    expect(await server.deps.db("webhook_nonces").where({ tenant_id: tenantId, app_id: appId }).count({ n: "*" }).first()).toMatchObject({ n: 1 });
    await new Promise((resolve) => setTimeout(resolve, 400));
    state.mode = "up";
    // Redis holds the late nonce, so its replay is refused there; a new nonce writes no ledger row.
    expect(await check(guard, appId, "77777777777777777777", "answer|c2|StartApp")).toBe("replay");
    expect(await check(guard, appId, "88888888888888888888", "answer|c3|StartApp")).toBe("fresh");
    expect(await server.deps.db("webhook_nonces").where({ tenant_id: tenantId, app_id: appId, nonce: "88888888888888888888" }).first()).toBeUndefined();
  });

  it("with Redis up, decides in Redis alone and writes no ledger row", async () => {
    const { kv } = switchableKv();
    const guard = createReplayGuard({ db: server.deps.db, kv, logger: silent });
    const appId = `app_${randomUUID()}`;
    expect(await check(guard, appId, "66666666666666666666", "answer|c1|StartApp")).toBe("fresh");
    expect(await check(guard, appId, "66666666666666666666", "answer|c2|StartApp")).toBe("replay");
    expect(await server.deps.db("webhook_nonces").where({ tenant_id: tenantId, app_id: appId }).first()).toBeUndefined();
  });

  it("lets exactly one of many concurrent first uses of a nonce be fresh through the ledger", async () => {
    const { kv, state } = switchableKv();
    const guard = createReplayGuard({ db: server.deps.db, kv, logger: silent });
    const appId = `app_${randomUUID()}`;
    state.mode = "down";
    const verdicts = await Promise.all(
      Array.from({ length: 10 }, (_, i) => check(guard, appId, "77777777777777777777", `answer|c${i}|StartApp`)),
    );
    expect(verdicts.filter((v) => v === "fresh")).toHaveLength(1);
    expect(verdicts.filter((v) => v === "replay")).toHaveLength(9);
  });
});
