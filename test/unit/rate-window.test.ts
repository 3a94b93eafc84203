import { describe, expect, it } from "vitest";
import { RATE_WINDOW_MS, decideRate, rateWindowAt } from "../../server/src/domain/rate-window.js";

describe("rateWindowAt", () => {
  it("names the one-second window and how far into it a moment is", () => {
    expect(rateWindowAt(5 * RATE_WINDOW_MS)).toEqual({ index: 5, elapsed: 0 });
    expect(rateWindowAt(5 * RATE_WINDOW_MS + 250)).toEqual({ index: 5, elapsed: 0.25 });
    expect(rateWindowAt(6 * RATE_WINDOW_MS - 1).index).toBe(5);
  });
});

describe("decideRate", () => {
  it("allows up to the limit in a fresh window and refuses the next", () => {
    expect(decideRate(10, 0, 10, 0.5)).toEqual({ allowed: true, remaining: 0 });
    expect(decideRate(10, 0, 11, 0.5)).toEqual({ allowed: false, remaining: 0 });
    expect(decideRate(10, 0, 3, 0.9)).toEqual({ allowed: true, remaining: 7 });
  });

  it("counts the previous window by how much of it is still inside the last second", () => {
    // Just after a boundary a full previous window still counts almost whole: no double burst across it.
    expect(decideRate(10, 10, 1, 0.05).allowed).toBe(false);
    // Halfway through, half of it counts.
    expect(decideRate(10, 10, 5, 0.5)).toEqual({ allowed: true, remaining: 0 });
    expect(decideRate(10, 10, 6, 0.5).allowed).toBe(false);
    // Near the end of the window the previous one barely counts.
    expect(decideRate(10, 10, 9, 0.95)).toEqual({ allowed: true, remaining: 0 });
    expect(decideRate(10, 4, 9, 0.95)).toEqual({ allowed: true, remaining: 0 });
    expect(decideRate(10, 4, 9, 0.99).allowed).toBe(true);
  });
});
