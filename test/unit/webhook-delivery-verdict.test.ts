import { describe, expect, it } from "vitest";
import { DISABLE_AFTER_FAILING_MS, MAX_DELIVERY_ATTEMPTS, RETRY_SCHEDULE_MS, judgeAttempt } from "../../server/src/domain/webhook-delivery.js";

const now = new Date("2026-12-02T12:00:00Z");
const at = (ms: number) => new Date(now.getTime() + ms);
const failed = (status: number | null, retryAfterMs: number | null = null) => ({ status, error: status === null ? "timeout" : null, retryAfterMs });

describe("judging a delivery attempt", () => {
  it("counts any 2xx as delivered", () => {
    for (const status of [200, 202, 204, 299]) expect(judgeAttempt(failed(status), 1, null, now)).toEqual({ outcome: "succeeded" });
  });

  it("retries after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, and gives up after the eighth attempt", () => {
    expect(RETRY_SCHEDULE_MS).toEqual([5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
    for (let attempt = 1; attempt < MAX_DELIVERY_ATTEMPTS; attempt++) {
      expect(judgeAttempt(failed(500), attempt, now, now)).toMatchObject({ outcome: "failed", retryAt: at(RETRY_SCHEDULE_MS[attempt - 1]!), disable: null });
    }
    expect(judgeAttempt(failed(null), MAX_DELIVERY_ATTEMPTS, now, now)).toMatchObject({ outcome: "failed", retryAt: null, disable: null, error: "timeout" });
  });

  it("honours Retry-After in place of the step, between a second and a day", () => {
    expect(judgeAttempt(failed(503, 120_000), 1, null, now)).toMatchObject({ retryAt: at(120_000) });
    expect(judgeAttempt(failed(429, 0), 3, null, now)).toMatchObject({ retryAt: at(1_000) });
    expect(judgeAttempt(failed(503, 7 * 86_400_000), 2, null, now)).toMatchObject({ retryAt: at(86_400_000) });
  });

  it("disables the endpoint on 410, and when its failures have lasted 5 days", () => {
    expect(judgeAttempt(failed(410), 1, null, now)).toMatchObject({ retryAt: null, disable: "gone" });
    const since = new Date(now.getTime() - DISABLE_AFTER_FAILING_MS);
    expect(judgeAttempt(failed(500), 2, since, now)).toMatchObject({ retryAt: null, disable: "failing" });
    expect(judgeAttempt(failed(500), 2, new Date(since.getTime() + 1), now)).toMatchObject({ disable: null });
  });
});
