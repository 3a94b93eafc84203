/**
 * How many calls a tenant may have Maskline place per second (MASKLINE_CALLS_PER_SECOND), counted across replicas in
 * kv like the API's rate limit (domain/rate-window.ts), so one tenant cannot spend the carrier capacity every tenant
 * shares. Losing Redis loses a window, never a request: a kv failure lets the call through and is logged.
 */
import type { Deps } from "../deps.js";
import { AppError } from "../errors.js";
import { RATE_WINDOW_MS, decideRate, rateWindowAt } from "../domain/rate-window.js";
import { withTimeout } from "../time/deadline.js";

const KV_TIMEOUT_MS = 250;

export async function admitPlacedCall(deps: Pick<Deps, "config" | "kv" | "clock" | "logger">, tenantId: string): Promise<void> {
  const limit = deps.config.callsPerSecond;
  if (limit === 0) return;
  const { index, elapsed } = rateWindowAt(deps.clock.now().getTime());
  const key = (i: number) => `callrate:{${tenantId}}:${i}`;
  let counts: [number, string | null];
  try {
    counts = await withTimeout(
      Promise.all([deps.kv.increment(key(index), 1, 2 * RATE_WINDOW_MS), deps.kv.get(key(index - 1))]),
      KV_TIMEOUT_MS,
    );
  } catch (err) {
    deps.logger.warn({ err, tenantId }, "call rate counters unavailable: this placed call is not limited");
    return;
  }
  const decision = decideRate(limit, Number(counts[1] ?? 0), counts[0], elapsed);
  if (decision.allowed) return;
  deps.kv.increment(key(index), -1, 2 * RATE_WINDOW_MS).catch(() => undefined);
  throw new AppError("rate_limited", `This account may place ${limit} calls per second; retry shortly.`, {
    headers: { "Retry-After": "1" },
  });
}
