/**
 * How much room this process leaves for background work, so that work which can wait (event deliveries) never
 * takes the CPU a caller is waiting on (the answer path, the tenant API).
 *
 * The HTTP layer counts the requests it serves; background runners ask `backgroundSlots(max)` before each claim.
 * Every sampling window the answer is adjusted, additive-increase / multiplicative-decrease, on two signs that
 * callers are waiting: requests queueing (QUEUED_REQUESTS or more in flight at once during the window: on a host
 * shared with Postgres the loop itself may look idle while every request waits on the database), or the loop busy
 * (above TARGET_UTILISATION) while requests arrived. Under pressure the slots are halved, down to a floor of one;
 * otherwise they grow back by a quarter of `max` per window. A backlog drained with no foreground traffic therefore
 * runs at full width, however busy it keeps the loop itself, and a saturating burst of calls leaves the deliveries a
 * trickle until it passes, when they catch up.
 *
 * Nothing here runs on a timer: the sample is taken lazily by whoever asks, at most once per window.
 */
import { performance, type EventLoopUtilization } from "node:perf_hooks";

/** Above this share of busy time in a window with foreground requests, background work backs off. */
const TARGET_UTILISATION = 0.8;
/** This many foreground requests in flight at once means they are queueing, not just passing through. */
const QUEUED_REQUESTS = 8;
const WINDOW_MS = 100;

export interface ForegroundLoad {
  /** A foreground request (API or carrier webhook) started. */
  requestStarted(): void;
  /** …and ended (answered, failed or abandoned). */
  requestEnded(): void;
  /** How many background jobs may run at once now, out of `max` (at least 1 when max ≥ 1). */
  backgroundSlots(max: number): number;
  /** True while background work is held back (the runner then claims on its poll, not on every finished job). */
  yielding(): boolean;
}

export interface ForegroundLoadOptions {
  /** The loop's utilisation since `previous` (tests inject one). */
  utilisation?: (previous: EventLoopUtilization | undefined) => EventLoopUtilization;
  now?: () => number;
}

export function createForegroundLoad(options: ForegroundLoadOptions = {}): ForegroundLoad {
  const measure = options.utilisation ?? ((previous) => performance.eventLoopUtilization(previous));
  const now = options.now ?? (() => performance.now());
  let started = 0;
  let inFlight = 0;
  /** The most requests in flight at once since the last sample. */
  let peakInFlight = 0;
  let startedAtSample = 0;
  let sampledAt = now();
  let mark = measure(undefined);
  /** The allowance as a share of max (1: all of it); kept as a share so callers with different max agree. */
  let share = 1;
  let pressed = false;

  function sample(): void {
    const at = now();
    if (at - sampledAt < WINDOW_MS) return;
    const window = measure(mark);
    mark = measure(undefined);
    const arrived = started - startedAtSample;
    startedAtSample = started;
    sampledAt = at;
    pressed = peakInFlight >= QUEUED_REQUESTS || (window.utilization > TARGET_UTILISATION && arrived > 0);
    peakInFlight = inFlight;
    share = pressed ? share / 2 : Math.min(1, share + 0.25);
  }

  return {
    requestStarted() {
      started += 1;
      inFlight += 1;
      if (inFlight > peakInFlight) peakInFlight = inFlight;
    },
    requestEnded() {
      inFlight = Math.max(0, inFlight - 1);
    },
    backgroundSlots(max) {
      if (max <= 0) return 0;
      sample();
      return Math.max(1, Math.min(max, Math.floor(max * share)));
    },
    yielding() {
      sample();
      return pressed || share < 1;
    },
  };
}

/** For runners with nothing to yield to (tests, tools). */
export const noForegroundLoad: ForegroundLoad = Object.freeze({
  requestStarted() {},
  requestEnded() {},
  backgroundSlots: (max: number) => max,
  yielding: () => false,
});
