import { describe, expect, it } from "vitest";
import { poolKey, poolOfKey } from "../../server/src/services/caches.js";

describe("pool cache key", () => {
  it("names back the tenant and pool it was made of", () => {
    expect(poolOfKey(poolKey("ten_01J0000000000000000000000", "riders"))).toEqual({
      tenantId: "ten_01J0000000000000000000000",
      pool: "riders",
    });
  });

  it("keeps the same pool name of two tenants apart", () => {
    expect(poolKey("ten_a", "riders")).not.toBe(poolKey("ten_b", "riders"));
  });

  it("gives back the whole pool name even when it holds the separator", () => {
    expect(poolOfKey(poolKey("ten_a", "x\u0000y"))).toEqual({ tenantId: "ten_a", pool: "x\u0000y" });
  });
});
