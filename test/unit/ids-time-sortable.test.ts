import { describe, expect, it } from "vitest";
import { newId } from "../../server/src/crypto/ids.js";

describe("newId", () => {
  it("is the prefix, an underscore and a 26-character Crockford base32 ULID", () => {
    for (const prefix of ["ten", "key", "app", "num", "ses", "par", "call"] as const) {
      expect(newId(prefix)).toMatch(new RegExp(`^${prefix}_[0-9A-HJKMNP-TV-Z]{26}$`));
    }
  });

  it("sorts by creation order, even many ids within one millisecond (keyset pagination by id)", () => {
    const ids = Array.from({ length: 5000 }, () => newId("ses"));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("sorts across prefixes' shared clock: a later id of any kind has a later time part", async () => {
    const a = newId("par");
    await new Promise((r) => setTimeout(r, 5));
    const b = newId("call");
    expect(b.slice(5, 15) > a.slice(4, 14)).toBe(true);
  });
});
