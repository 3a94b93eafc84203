/**
 * The tenant API's rate limit, decided without I/O. A sliding one-second window approximated from two fixed
 * windows (the counters kv keeps): the previous window's count weighted by how much of it still lies inside the
 * last second, plus the current window's. Unlike a bare fixed window it does not let a client send twice the limit
 * across a window boundary, and it needs only two counters per tenant.
 */
export const RATE_WINDOW_MS = 1_000;

export interface RateWindow {
  /** Which fixed window `nowMs` falls in (the kv key's suffix). */
  index: number;
  /** How far into it, 0 ≤ elapsed < 1. */
  elapsed: number;
}

export function rateWindowAt(nowMs: number): RateWindow {
  const index = Math.floor(nowMs / RATE_WINDOW_MS);
  return { index, elapsed: (nowMs - index * RATE_WINDOW_MS) / RATE_WINDOW_MS };
}

export interface RateDecision {
  allowed: boolean;
  /** Requests left in the sliding second after this one, for the RateLimit-Remaining header. */
  remaining: number;
}

/**
 * `current` already counts this request. A refused request is taken back out of the counter by the caller, so a
 * client sending faster than the limit still gets the limit's worth through rather than being shut out entirely.
 */
export function decideRate(limit: number, previous: number, current: number, elapsed: number): RateDecision {
  const estimate = previous * (1 - elapsed) + current;
  return { allowed: estimate <= limit, remaining: Math.max(0, Math.floor(limit - estimate)) };
}
