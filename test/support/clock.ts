import type { Clock } from "../../server/src/deps.js";

/**
 * A clock a test moves: the system clock plus an offset. Set it back before creating a session and the session's
 * expiry lies in the real past once the offset is cleared, so "after expiry" needs no sleep, and nothing expires
 * early for other test files sharing the database (every instant the server writes is still a real one or earlier).
 */
export interface TestClock extends Clock {
  /** Moves the clock by `ms` (negative: into the past) from where it is. */
  shift(ms: number): void;
  /**
   * Stops real time from moving it: from here on only shift() does. A test that proves something is "not due yet"
   * a second before its time must not lose that second to a slow, shared machine between two of its steps.
   */
  freeze(): void;
  /** Back to the system clock (unfrozen). */
  reset(): void;
}

export function createTestClock(): TestClock {
  let offsetMs = 0;
  let frozenAt: number | null = null;
  return {
    now: () => new Date(frozenAt ?? Date.now() + offsetMs),
    shift(ms) {
      if (frozenAt === null) offsetMs += ms;
      else frozenAt += ms;
    },
    freeze() {
      frozenAt ??= Date.now() + offsetMs;
    },
    reset() {
      offsetMs = 0;
      frozenAt = null;
    },
  };
}
