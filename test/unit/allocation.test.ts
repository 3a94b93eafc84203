import { describe, expect, it } from "vitest";
import { chooseDid } from "../../server/src/domain/allocation.js";

const pool = ["num_a", "num_b", "num_c"];

describe("chooseDid", () => {
  it("never returns a DID the person already holds", () => {
    for (let i = 0; i < 50; i++) {
      const did = chooseDid({ poolDidIds: pool, heldDidIds: new Set(["num_a", "num_c"]), lastDidId: null });
      expect(did).toBe("num_b");
    }
  });

  it("returns null when the person holds every DID of the pool", () => {
    expect(chooseDid({ poolDidIds: pool, heldDidIds: new Set(pool), lastDidId: "num_a" })).toBeNull();
  });

  it("prefers the DID the person had last time when it is free", () => {
    expect(chooseDid({ poolDidIds: pool, heldDidIds: new Set(), lastDidId: "num_c", random: () => 0 })).toBe("num_c");
  });

  it("ignores a last DID that is held, excluded or no longer in the pool", () => {
    expect(chooseDid({ poolDidIds: pool, heldDidIds: new Set(["num_c"]), lastDidId: "num_c", random: () => 0 })).toBe("num_a");
    expect(chooseDid({ poolDidIds: pool, heldDidIds: new Set(), lastDidId: "num_c", excludedDidIds: new Set(["num_c"]), random: () => 0 })).toBe("num_a");
    expect(chooseDid({ poolDidIds: pool, heldDidIds: new Set(), lastDidId: "num_gone", random: () => 0.99 })).toBe("num_c");
  });

  it("skips DIDs that lost a race in this allocation", () => {
    expect(chooseDid({ poolDidIds: pool, heldDidIds: new Set(["num_a"]), lastDidId: null, excludedDidIds: new Set(["num_b"]) })).toBe("num_c");
  });

  it("spreads over the free DIDs instead of always taking the first", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) seen.add(chooseDid({ poolDidIds: pool, heldDidIds: new Set(), lastDidId: null })!);
    expect(seen).toEqual(new Set(pool));
  });

  it("avoids the other participant's DID when another is free, but shares it when it is the only one", () => {
    for (let i = 0; i < 50; i++) {
      expect(chooseDid({ poolDidIds: ["num_a", "num_b"], heldDidIds: new Set(), lastDidId: null, avoidDidId: "num_a" })).toBe("num_b");
    }
    expect(chooseDid({ poolDidIds: ["num_a", "num_b"], heldDidIds: new Set(["num_b"]), lastDidId: null, avoidDidId: "num_a" })).toBe("num_a");
  });
});
