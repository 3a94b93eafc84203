import { describe, expect, it } from "vitest";
import { exponentialBackoff, scheduledBackoff, withJitter } from "../../server/src/jobs/backoff.js";
import { describeJobError } from "../../server/src/jobs/attempt.js";

describe("job retry delays", () => {
  it("double from the base up to the cap", () => {
    const delay = exponentialBackoff(1_000, 10_000);
    expect([1, 2, 3, 4, 5, 9].map(delay)).toEqual([1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
  });

  it("follow a fixed schedule, its last step repeating (the webhook schedule)", () => {
    const delay = scheduledBackoff([5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000]);
    expect([1, 2, 3, 6, 7, 20].map(delay)).toEqual([5_000, 300_000, 1_800_000, 36_000_000, 36_000_000, 36_000_000]);
  });

  it("spread by at most a fifth either way", () => {
    expect(withJitter(10_000, () => 0)).toBe(8_000);
    expect(withJitter(10_000, () => 0.5)).toBe(10_000);
    expect(withJitter(10_000, () => 0.999999)).toBe(12_000);
  });
});

describe("a job's recorded error", () => {
  it("names the error, hides phone numbers and stays short", () => {
    const text = describeJobError(new TypeError(`endpoint refused +919812345678 ${"x".repeat(1_000)}`));
    expect(text.startsWith("TypeError: endpoint refused +91")).toBe(true);
    expect(text).not.toContain("9812345678");
    expect(text.length).toBeLessThanOrEqual(500);
    expect(describeJobError("plain")).toBe("non-error thrown: plain");
  });
});
