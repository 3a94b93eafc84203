/**
 * `GET /metrics`: the registry's counters as they stand, with the gauges that are read rather than counted set just
 * before: the job queue at every scrape, and the pool gauges from the table the `metrics.pools` job keeps (read at
 * most every 30 s per replica; the job refreshes it every minute). Sizing every tenant's pools at scrape time would
 * make a scrape's cost grow with the number of tenants; the job walks them a batch at a time instead.
 *
 * Only the fullest pools get a series of their own (labels are bounded: a Prometheus with 100,000 tenants' pools as
 * series is nobody's friend); counts cover all of them. Pool names are tenants' words: a name that looks like a
 * phone number is shown masked, as in the logs.
 */
import type { Knex } from "knex";
import type { Deps } from "../deps.js";
import { redactPhoneNumbers } from "../logging/redact.js";
import * as store from "../stores/metrics.js";
import { poolsOfTenant } from "./pools.js";

/** Pools named in the per-pool gauges: the fullest ones across tenants. */
export const MAX_POOL_SERIES = 500;
const POOLS_READ_EVERY_MS = 30_000;
/** Tenants sized per run of the job (one transaction); the walk continues at once until it has met them all. */
const TENANTS_PER_RUN = 100;

const lastPoolRead = new WeakMap<object, number>();

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
  if (now - (lastPoolRead.get(deps.metrics) ?? -Infinity) < POOLS_READ_EVERY_MS) return;
  lastPoolRead.set(deps.metrics, now);
  const [fullest, counts] = await Promise.all([store.fullestPools(deps.db, MAX_POOL_SERIES), store.poolCounts(deps.db)]);
  const { poolHeadroom, poolUtilisation, poolPinHeadroom, pools, poolFiguresAge } = deps.metrics;
  for (const gauge of [poolHeadroom, poolUtilisation, poolPinHeadroom]) gauge.reset();
  for (const pool of fullest) {
    const labels = { tenant_id: pool.tenant_id, pool: redactPhoneNumbers(pool.pool) };
    poolHeadroom.set(labels, Number(pool.headroom));
    poolUtilisation.set(labels, Number(pool.utilisation));
    poolPinHeadroom.set(labels, Number(pool.pin_headroom));
  }
  pools.set({ state: "all" }, Number(counts.pools));
  pools.set({ state: "exhausted" }, Number(counts.exhausted));
  pools.set({ state: "nearly_exhausted" }, Number(counts.nearly_exhausted));
  poolFiguresAge.set(counts.oldest_computed_at ? Math.max(0, (now - new Date(counts.oldest_computed_at).getTime()) / 1000) : 0);
}

/** The metrics in Prometheus's text format, and its content type. */
export async function renderMetrics(deps: Pick<Deps, "db" | "clock" | "metrics">): Promise<{ contentType: string; text: string }> {
  await refreshJobs(deps);
  await refreshPools(deps);
  return { contentType: deps.metrics.registry.contentType, text: await deps.metrics.registry.metrics() };
}

/** Where the pool gauges' walk is: the last tenant sized, and when the current pass began. */
export interface PoolGaugeWalk {
  after: string | null;
  passStartedAt: string | null;
}

export const POOL_GAUGE_WALK_START: PoolGaugeWalk = { after: null, passStartedAt: null };

/**
 * One step of the walk, in the job's transaction: the next tenants' pools sized (each with GET /v1/pools's own
 * tenant-scoped query) and written. At the end of a pass, the gauges of tenants it no longer met are removed.
 */
export async function poolGaugeStep(
  deps: Pick<Deps, "clock">,
  trx: Knex,
  walk: PoolGaugeWalk,
): Promise<{ walk: PoolGaugeWalk; passEnded: boolean; tenants: number }> {
  const now = deps.clock.now();
  const passStartedAt = walk.passStartedAt ?? now.toISOString();
  const tenants = await store.tenantsWithNumbersAfter(trx, walk.after, TENANTS_PER_RUN);
  for (const tenantId of tenants) {
    const rows = (await poolsOfTenant(trx, tenantId, now)).map((p) => ({
      tenant_id: tenantId,
      pool: p.pool,
      numbers: p.numbers,
      busiest: p.busiestParticipantSessions,
      headroom: p.headroom,
      utilisation: p.utilisation,
      pin_headroom: p.pinHeadroom,
    }));
    await store.replaceTenantPoolGauges(trx, tenantId, rows, now);
  }
  if (tenants.length < TENANTS_PER_RUN) {
    await store.deletePoolGaugesBefore(trx, new Date(passStartedAt));
    return { walk: POOL_GAUGE_WALK_START, passEnded: true, tenants: tenants.length };
  }
  return { walk: { after: tenants.at(-1)!, passStartedAt }, passEnded: false, tenants: tenants.length };
}
