import { describe, expect, it } from "vitest";
import { createLogger } from "../../server/src/logging/logger.js";
import { createSharedCache } from "../../server/src/services/shared-cache.js";
import { createMemoryKv } from "../../server/src/kv/memory.js";
import type { Kv } from "../../server/src/kv/kv.js";

const silent = createLogger({ level: "silent" });

describe("shared cache during an outage", () => {
  it("keeps serving the last known value past its TTL while loads fail, and refreshes once they work", async () => {
    let failing = false;
    let version = 1;
    const cache = createSharedCache<string>({
      kv: createMemoryKv(),
      logger: silent,
      channel: "test:stale",
      ttlMs: 10,
      maxEntries: 10,
      load: async () => {
        if (failing) throw new Error("database unreachable");
        return `v${version}`;
      },
    });
    expect(await cache.get("app")).toBe("v1");
    failing = true;
    await new Promise((r) => setTimeout(r, 30));
    expect(await cache.get("app")).toBe("v1"); // past the TTL, the database away: still the app's own settings
    expect(await cache.get("app")).toBe("v1");
    failing = false;
    version = 2;
    await cache.get("app"); // starts the refresh
    await new Promise((r) => setTimeout(r, 5));
    expect(await cache.get("app")).toBe("v2");
    await cache.close();
  });

  it("fails a first load with no value to fall back on", async () => {
    const cache = createSharedCache<string>({
      kv: createMemoryKv(),
      logger: silent,
      channel: "test:cold",
      ttlMs: 10,
      maxEntries: 10,
      load: async () => {
        throw new Error("database unreachable");
      },
    });
    await expect(cache.get("app")).rejects.toThrow("database unreachable");
    await cache.close();
  });

  it("does not fail a change because the change notice could not be published (Redis down)", async () => {
    const inner = createMemoryKv();
    const kv: Kv = { ...inner, publish: () => Promise.reject(new Error("Redis down")) };
    const cache = createSharedCache<string>({ kv, logger: silent, channel: "test:notice", ttlMs: 1000, maxEntries: 10, load: async () => "v" });
    await expect(cache.invalidate("app")).resolves.toBeUndefined();
    await cache.close();
  });
});
