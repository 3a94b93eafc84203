/**
 * Per-tenant rate limit for the tenant API (docs/architecture.md, "Redis and faults"): the counters live in kv, so
 * with Redis every replica counts against the same limit. Carrier webhooks are never limited here (a throttled
 * webhook is a dropped phone call), nor is the operator API.
 *
 * Losing Redis may lose a rate-limit window, never a request: if kv fails, the request goes through (fail open)
 * and a warning is logged at most once a minute.
 */
import type { Next } from "koa";
import type { Deps } from "../deps.js";
import { AppError } from "../errors.js";
import { RATE_WINDOW_MS, decideRate, rateWindowAt } from "../domain/rate-window.js";
import type { AppContext } from "./context.js";
import { withTimeout } from "../time/deadline.js";

const WARN_EVERY_MS = 60_000;
/** Redis answers in well under a millisecond; a hung one must not add its command timeout to every request. */
const KV_TIMEOUT_MS = 250;

type LimiterDeps = Pick<Deps, "config" | "kv" | "clock" | "logger">;
type Limiter = (ctx: AppContext, next: Next) => Promise<void>;
const limiters = new WeakMap<LimiterDeps, Limiter>();

/** One limiter per app (routes share it, and so its warning throttle). */
export function tenantRateLimit(deps: LimiterDeps): Limiter {
  let limiter = limiters.get(deps);
  if (!limiter) limiters.set(deps, (limiter = createLimiter(deps)));
  return limiter;
}

function createLimiter(deps: LimiterDeps): Limiter {
  let lastWarnedAt = -Infinity;
  return async function rateLimit(ctx: AppContext, next: Next) {
    const limit = deps.config.rateLimitPerSecond; // read per request: building routes must not touch deps
    const principal = ctx.state.principal;
    if (limit === 0 || principal?.kind !== "tenant") return next();
    const { index, elapsed } = rateWindowAt(deps.clock.now().getTime());
    // One hash tag per tenant: the two windows read together sit in one Redis Cluster slot (one node, one write).
    const key = (i: number) => `ratelimit:{${principal.tenantId}}:${i}`;
    let counts: [number, string | null];
    try {
      // Two windows' worth of TTL: the current counter is read as "previous" during the next window.
      counts = await withTimeout(
        Promise.all([deps.kv.increment(key(index), 1, 2 * RATE_WINDOW_MS), deps.kv.get(key(index - 1))]),
        KV_TIMEOUT_MS,
      );
    } catch (err) {
      const now = deps.clock.now().getTime();
      if (now - lastWarnedAt >= WARN_EVERY_MS) {
        lastWarnedAt = now;
        deps.logger.warn({ err }, "rate limit counters unavailable: requests are not being limited");
      }
      return next();
    }
    const decision = decideRate(limit, Number(counts[1] ?? 0), counts[0], elapsed);
    const headers = { "RateLimit-Limit": String(limit), "RateLimit-Remaining": String(decision.remaining) };
    if (!decision.allowed) {
      deps.kv.increment(key(index), -1, 2 * RATE_WINDOW_MS).catch(() => undefined);
      throw new AppError("rate_limited", `This account is limited to ${limit} API requests per second; retry shortly.`, {
        headers: { ...headers, "Retry-After": "1" },
      });
    }
    ctx.set(headers);
    return next();
  };
}
