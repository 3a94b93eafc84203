import { describe, expect, it } from "vitest";
import { connectionLifetimeMs, MAX_CONNECTION_LIFETIME_MS, MIN_CONNECTION_LIFETIME_MS } from "../../server/src/db/connection-lifetime.js";

const middle = () => 0.5;

describe("a pooled connection's lifetime", () => {
  it("is short while the pool is young, so plans made on a filling database are made again soon", () => {
    expect(connectionLifetimeMs(0, middle)).toBe(MIN_CONNECTION_LIFETIME_MS);
    expect(connectionLifetimeMs(4_000, middle)).toBe(MIN_CONNECTION_LIFETIME_MS);
  });

  it("grows as half the pool's age, then stops at the maximum", () => {
    expect(connectionLifetimeMs(60_000, middle)).toBe(30_000);
    expect(connectionLifetimeMs(600_000, middle)).toBe(300_000);
    expect(connectionLifetimeMs(3_600_000, middle)).toBe(MAX_CONNECTION_LIFETIME_MS);
  });

  it("is spread by ±10 % so a pool's connections do not all retire at once", () => {
    expect(connectionLifetimeMs(60_000, () => 0)).toBe(27_000);
    expect(connectionLifetimeMs(60_000, () => 1)).toBe(33_000);
  });
});
