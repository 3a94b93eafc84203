import { describe, expect, it } from "vitest";
import type { Deps } from "../../server/src/deps.js";
import { AppError } from "../../server/src/errors.js";
import type { AppContext } from "../../server/src/http/context.js";
import { tenantRateLimit } from "../../server/src/http/rate-limit.js";
import type { Kv } from "../../server/src/kv/kv.js";
import { createMemoryKv } from "../../server/src/kv/memory.js";
import { createLogger } from "../../server/src/logging/logger.js";

// The limiter middleware on its own, with the real in-memory kv and a clock the test moves.
function limiterAt(limit: number, kv: Kv, now: () => number) {
  const lines: string[] = [];
  const logger = createLogger({ level: "warn", destination: { write: (line: string) => void lines.push(line) } });
  const deps = { config: { rateLimitPerSecond: limit }, kv, clock: { now: () => new Date(now()) }, logger } as unknown as Deps;
  const limiter = tenantRateLimit(deps);
  /** Sends `n` requests one after another; returns how many got through. */
  const send = async (n: number, tenantId = "ten_a") => {
    let passed = 0;
    for (let i = 0; i < n; i++) {
      const ctx = { state: { principal: { kind: "tenant", tenantId, apiKeyId: "key_a" } }, set: () => undefined } as unknown as AppContext;
      try {
        await limiter(ctx, async () => void passed++);
      } catch (err) {
        if (!(err instanceof AppError) || err.code !== "rate_limited") throw err;
      }
      await new Promise((r) => setImmediate(r)); // lets a refusal's decrement land, as it would between requests
    }
    return passed;
  };
  return { send, lines };
}

describe("the tenant rate limiter", () => {
  it("does not count refused requests: a client far over the limit still gets the limit's worth through", async () => {
    let t = 1_000_000 + 100;
    const kv = createMemoryKv(() => t);
    const { send } = limiterAt(10, kv, () => t);
    expect(await send(40)).toBe(10);
    // Halfway through the next second, half of the previous second's 10 still counts: 5 more fit. Had the 30
    // refusals been counted, the previous second would weigh 20 and nothing would get through.
    t = 1_001_000 + 500;
    expect(await send(20)).toBe(5);
    // Another tenant is counted apart.
    expect(await send(10, "ten_b")).toBe(10);
    await kv.close();
  });

  it("lets requests through when kv fails, and warns once, not once per request", async () => {
    const kv = createMemoryKv();
    const broken: Kv = { ...kv, increment: () => Promise.reject(new Error("connection lost")), get: () => Promise.reject(new Error("connection lost")) };
    const { send, lines } = limiterAt(1, broken, () => Date.now());
    expect(await send(5)).toBe(5);
    expect(lines.filter((l) => l.includes("rate limit counters unavailable"))).toHaveLength(1);
    await kv.close();
  });
});
