import type { Clock } from "../../server/src/deps.js";

/**
 * A clock a test moves: the system clock plus an offset. Set it back before creating a session and the session's
 * expiry lies in the real past once the offset is cleared, so "after expiry" needs no sleep, and nothing expires
 * early for other test files sharing the database (every instant the server writes is still a real one or earlier).
 */
export interface TestClock extends Clock {
  /** Moves the clock by `ms` (negative: into the past) from where it is. */
  shift(ms: number): void;
  /** Back to the system clock. */
  reset(): void;
}

export function createTestClock(): TestClock {
  let offsetMs = 0;
  return {
    now: () => new Date(Date.now() + offsetMs),
    shift(ms) {
      offsetMs += ms;
    },
    reset() {
      offsetMs = 0;
    },
  };
}
