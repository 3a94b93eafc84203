/** Retry delays. Pure: the runner adds the jitter and the clock. */

/** base, 2·base, 4·base, … capped: the default for kinds that name no schedule. */
export function exponentialBackoff(baseMs = 1_000, capMs = 3_600_000): (attempt: number) => number {
  return (attempt) => Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
}

/** A fixed schedule (e.g. 5 s, 5 min, 30 min, 2 h, …): retry n waits steps[n-1], the last step repeating. */
export function scheduledBackoff(stepsMs: readonly number[]): (attempt: number) => number {
  if (stepsMs.length === 0) throw new Error("scheduledBackoff needs at least one step");
  return (attempt) => stepsMs[Math.min(stepsMs.length, Math.max(1, attempt)) - 1]!;
}

/**
 * ±20 %: jobs that failed together (an endpoint down, Postgres restarted) do not all retry in the same instant.
 * `random` is injectable for tests.
 */
export function withJitter(delayMs: number, random: () => number = Math.random): number {
  return Math.max(0, Math.round(delayMs * (0.8 + 0.4 * random())));
}
