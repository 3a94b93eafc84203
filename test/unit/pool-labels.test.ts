/**
 * A pool's name becomes a metrics label (GET /metrics); it is a tenant's word, so a phone number in it is masked
 * however it is written: alone, glued to a word, or split by separators. Names without one are kept as they are.
 */
import { describe, expect, it } from "vitest";
import { poolLabel } from "../../server/src/services/metrics.js";

describe("pool labels", () => {
  it.each([
    ["919812345678", "********5678"],
    ["rider_919812345678", "rider_********5678"],
    ["rider_98123-45678", "rider_*****-*5678"],
    ["couriers.98.123.456.78", "couriers.**.***.*56.78"],
  ])("masks the number in %s, keeping its last four digits", (pool, label) => {
    expect(poolLabel(pool)).toBe(label);
    expect(poolLabel(pool).replace(/\D/g, "")).toHaveLength(4);
  });

  it.each(["couriers", "default", "zone-12", "drivers_2026", "batch.123456"])("keeps %s, which holds no number", (pool) => {
    expect(poolLabel(pool)).toBe(pool);
  });
});
