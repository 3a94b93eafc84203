/**
 * Background work's share of the process (server/src/time/foreground-load.ts): it gives way while callers wait
 * (requests queueing, or a busy loop with requests arriving), never below one slot, and grows back once they stop;
 * a backlog with no foreground traffic keeps its full width however busy it keeps the loop.
 */
import type { EventLoopUtilization } from "node:perf_hooks";
import { describe, expect, it } from "vitest";
import { createForegroundLoad } from "../../server/src/time/foreground-load.js";

/** A loop whose utilisation each window is whatever the test says, on a clock the test moves. */
function scripted() {
  let t = 0;
  let busy = 0;
  const load = createForegroundLoad({
    now: () => t,
    utilisation: () => ({ idle: 0, active: 0, utilization: busy }) as EventLoopUtilization,
  });
  return {
    load,
    /** Ends the current window (100 ms) with the loop `utilisation` busy. */
    window(utilisation: number) {
      busy = utilisation;
      t += 100;
    },
  };
}

describe("foreground load", () => {
  it("leaves background work its full width while nobody is waiting", () => {
    const { load, window } = scripted();
    expect(load.backgroundSlots(16)).toBe(16);
    load.requestStarted();
    load.requestEnded();
    window(0.3);
    expect(load.backgroundSlots(16)).toBe(16);
    expect(load.yielding()).toBe(false);
  });

  it("halves the slots each window requests queue (8 in flight at once), down to one, and not below", () => {
    const { load, window } = scripted();
    for (let i = 0; i < 8; i++) load.requestStarted();
    const seen: number[] = [];
    for (let w = 0; w < 6; w++) {
      window(0.2); // the loop looks idle: every request waits on the database
      seen.push(load.backgroundSlots(16));
    }
    expect(seen).toEqual([8, 4, 2, 1, 1, 1]);
    expect(load.yielding()).toBe(true);
  });

  it("backs off on a busy loop only when requests arrived in that window", () => {
    const { load, window } = scripted();
    window(0.95); // busy with background work alone: a backlog drains at full width
    expect(load.backgroundSlots(16)).toBe(16);
    load.requestStarted();
    load.requestEnded();
    window(0.95);
    expect(load.backgroundSlots(16)).toBe(8);
  });

  it("grows back by a quarter of the width per quiet window once the pressure is gone", () => {
    const { load, window } = scripted();
    for (let i = 0; i < 10; i++) load.requestStarted();
    for (let w = 0; w < 5; w++) {
      window(0.5);
      load.backgroundSlots(16);
    }
    expect(load.backgroundSlots(16)).toBe(1);
    for (let i = 0; i < 10; i++) load.requestEnded();
    window(0.5); // the window in which the queue emptied still saw it
    load.backgroundSlots(16);
    const seen: number[] = [];
    for (let w = 0; w < 5; w++) {
      window(0.1);
      seen.push(load.backgroundSlots(16));
    }
    expect(seen).toEqual([4, 8, 12, 16, 16]);
    expect(load.yielding()).toBe(false);
  });

  it("samples at most once per window however often it is asked", () => {
    const { load, window } = scripted();
    for (let i = 0; i < 8; i++) load.requestStarted();
    window(0.5);
    expect(load.backgroundSlots(16)).toBe(8);
    expect(load.backgroundSlots(16)).toBe(8);
    expect(load.backgroundSlots(4)).toBe(2);
  });
});
