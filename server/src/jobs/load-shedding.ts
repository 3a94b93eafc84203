/**
 * Background work that yields to requests. Event deliveries share the process with the answer path; a carrier
 * waiting on an answer matters more than a tenant waiting a second longer for a webhook. The event loop's
 * utilisation over the last quarter second says how busy the process is: saturated (as under a burst of calls),
 * deliveries go on with one slot (they never stop, so a backlog always drains); otherwise with all of them.
 * Deliveries alone stay well below saturation, so they never hold themselves back.
 */
import { performance, type EventLoopUtilization } from "node:perf_hooks";

const WINDOW_MS = 250;
const SATURATED = 0.95;

export function eventLoopAdmission(concurrency: number): () => number {
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  let sampledAt = performance.now();
  let admitted = concurrency;
  return () => {
    const at = performance.now();
    if (at - sampledAt < WINDOW_MS) return admitted;
    const now = performance.eventLoopUtilization();
    admitted = performance.eventLoopUtilization(now, last).utilization > SATURATED ? 1 : concurrency;
    last = now;
    sampledAt = at;
    return admitted;
  };
}
