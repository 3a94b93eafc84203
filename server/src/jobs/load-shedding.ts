/**
 * Background work that yields to requests. Event deliveries share the process with the answer path; a carrier
 * waiting on an answer matters more than a tenant waiting on a webhook a second sooner. The event loop's
 * utilisation since the last look says how busy the process is: nearly saturated, deliveries go on with one slot
 * (they never stop, so a backlog always drains); moderately busy, with a quarter; otherwise with all of them.
 */
import { performance, type EventLoopUtilization } from "node:perf_hooks";

export function eventLoopAdmission(concurrency: number): () => number {
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const busy = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    if (busy > 0.85) return 1;
    if (busy > 0.6) return Math.max(1, Math.floor(concurrency / 4));
    return concurrency;
  };
}
