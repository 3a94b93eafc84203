import { describe, expect, it } from "vitest";
import type { Deps } from "../../server/src/deps.js";
import type { AppContext } from "../../server/src/http/context.js";
import { tenantRateLimit } from "../../server/src/http/rate-limit.js";
import { createMemoryKv } from "../../server/src/kv/memory.js";
import { createLogger } from "../../server/src/logging/logger.js";

// Redis failing must cost a rate-limit window, never a request (design §6). The kv here is the real in-memory
// adapter with its counter operations made to fail, as a lost Redis connection makes them.
describe("the rate limiter when kv is unavailable", () => {
  it("lets requests through and warns once, not once per request", async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: "warn", destination: { write: (line: string) => void lines.push(line) } });
    const kv = createMemoryKv();
    const broken = { ...kv, increment: () => Promise.reject(new Error("connection lost")), get: () => Promise.reject(new Error("connection lost")) };
    const deps = { config: { rateLimitPerSecond: 1 }, kv: broken, clock: { now: () => new Date() }, logger } as unknown as Deps;
    const limiter = tenantRateLimit(deps);
    let passed = 0;
    for (let i = 0; i < 5; i++) {
      const ctx = { state: { principal: { kind: "tenant", tenantId: "ten_x", apiKeyId: "key_x" } }, set: () => undefined } as unknown as AppContext;
      await limiter(ctx, async () => void passed++);
    }
    expect(passed).toBe(5);
    expect(lines.filter((l) => l.includes("rate limit counters unavailable"))).toHaveLength(1);
    await kv.close();
  });
});
