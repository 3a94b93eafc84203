/**
 * `GET /metrics`: the registry's counters as they stand, with the gauges that are read rather than counted set just
 * before (the job queue at every scrape; pool sizing at most once a minute, since it aggregates every tenant's pools).
 * Pool names are tenants' words: a name that looks like a phone number is shown masked, as in the logs.
 */
import type { Deps } from "../deps.js";
import { redactPhoneNumbers } from "../logging/redact.js";
import * as store from "../stores/metrics.js";
import { getPoolFiguresForMetrics } from "./pools.js";

const POOLS_EVERY_MS = 60_000;
/** Tenants whose pools one scrape reports; past it, the gauges name the first ones in id order. */
const MAX_TENANTS = 1_000;

const lastPoolRefresh = new WeakMap<object, number>();

async function refreshJobs(deps: Pick<Deps, "db" | "clock" | "metrics">): Promise<void> {
  const rows = await store.jobQueue(deps.db, deps.clock.now());
  deps.metrics.jobsQueued.reset();
  deps.metrics.jobsOldestDueSeconds.reset();
  const oldest = new Map<string, number>();
  for (const r of rows) {
    deps.metrics.jobsQueued.set({ kind: r.kind, status: r.status }, Number(r.jobs));
    oldest.set(r.kind, Math.max(oldest.get(r.kind) ?? 0, Number(r.oldest_due_seconds)));
  }
  for (const [kind, seconds] of oldest) deps.metrics.jobsOldestDueSeconds.set({ kind }, Math.max(0, seconds));
}

async function refreshPools(deps: Pick<Deps, "db" | "clock" | "metrics">): Promise<void> {
  const now = deps.clock.now().getTime();
  if (now - (lastPoolRefresh.get(deps.metrics) ?? -Infinity) < POOLS_EVERY_MS) return;
  lastPoolRefresh.set(deps.metrics, now);
  const { poolHeadroom, poolUtilisation, poolPinHeadroom } = deps.metrics;
  for (const gauge of [poolHeadroom, poolUtilisation, poolPinHeadroom]) gauge.reset();
  for (const tenantId of await store.tenantsWithNumbers(deps.db, MAX_TENANTS)) {
    for (const pool of await getPoolFiguresForMetrics(deps, tenantId)) {
      const labels = { tenant_id: tenantId, pool: redactPhoneNumbers(pool.pool) };
      poolHeadroom.set(labels, pool.headroom);
      poolUtilisation.set(labels, pool.utilisation);
      poolPinHeadroom.set(labels, pool.pinHeadroom);
    }
  }
}

/** The metrics in Prometheus's text format, and its content type. */
export async function renderMetrics(deps: Pick<Deps, "db" | "clock" | "metrics">): Promise<{ contentType: string; text: string }> {
  await refreshJobs(deps);
  await refreshPools(deps);
  return { contentType: deps.metrics.registry.contentType, text: await deps.metrics.registry.metrics() };
}
