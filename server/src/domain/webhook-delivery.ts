/**
 * What one delivery attempt's result means (pure): delivered, retry at a time, or stop, and whether the endpoint is
 * to be disabled. The schedule is the contract's: after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; a Retry-After
 * replaces the step it falls on; 410 disables the endpoint; an endpoint failing for 5 days is disabled.
 */
const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

export const RETRY_SCHEDULE_MS: readonly number[] = [5 * SECOND, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR];
/** The first attempt and one per step. */
export const MAX_DELIVERY_ATTEMPTS = RETRY_SCHEDULE_MS.length + 1;
export const DISABLE_AFTER_FAILING_MS = 5 * 24 * HOUR;
export const DELIVERY_TIMEOUT_MS = 15 * SECOND;
/** A Retry-After longer than this is taken as this (a receiver cannot park an event for a week). */
const MAX_RETRY_AFTER_MS = 24 * HOUR;

export interface AttemptResult {
  status: number | null;
  error: string | null;
  retryAfterMs: number | null;
}

export type DeliveryVerdict =
  | { outcome: "succeeded" }
  | { outcome: "failed"; retryAt: Date | null; disable: "gone" | "failing" | null; error: string };

export function isDelivered(status: number | null): boolean {
  return status !== null && status >= 200 && status < 300;
}

/**
 * `attempt` counts from 1; `failingSince` is the endpoint's first failure since its last success (null: this is
 * the first). A failure on the last attempt, or one that disables the endpoint, has no retry.
 */
export function judgeAttempt(result: AttemptResult, attempt: number, failingSince: Date | null, now: Date): DeliveryVerdict {
  if (isDelivered(result.status)) return { outcome: "succeeded" };
  const error = result.error ?? `endpoint answered ${result.status}`;
  if (result.status === 410) return { outcome: "failed", retryAt: null, disable: "gone", error };
  const since = failingSince ?? now;
  if (now.getTime() - since.getTime() >= DISABLE_AFTER_FAILING_MS) return { outcome: "failed", retryAt: null, disable: "failing", error };
  if (attempt >= MAX_DELIVERY_ATTEMPTS) return { outcome: "failed", retryAt: null, disable: null, error };
  const step = RETRY_SCHEDULE_MS[attempt - 1]!;
  const wait = result.retryAfterMs === null ? step : Math.min(Math.max(result.retryAfterMs, SECOND), MAX_RETRY_AFTER_MS);
  return { outcome: "failed", retryAt: new Date(now.getTime() + wait), disable: null, error };
}
