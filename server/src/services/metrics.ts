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
import { randomUUID } from "node:crypto";
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
/** A run stops taking tenants after this long, well inside the job's 60 s timeout (a few huge tenants in a batch). */
const STEP_BUDGET_MS = 20_000;

/** Seven or more digits, with up to two separators between any two (`98123-45678`, `(981) 234 5678`). */
const DIGIT_RUN = /\d(?:[ ().-]{0,2}\d){6,}/g;

/**
 * A pool's label: a pool name is a tenant's word, so any run of 7 or more digits in it is masked (all but the last
 * four), even one glued to letters (`rider_919812345678`), which the log scrubber would read as an identifier and keep.
 */
export function poolLabel(pool: string): string {
  return redactPhoneNumbers(pool).replace(DIGIT_RUN, (run) => {
    let hide = run.replace(/\D/g, "").length - 4;
    return run.replace(/\d/g, (d) => (hide-- > 0 ? "*" : d));
  });
}

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
  const labelled = new Set<string>();
  for (const pool of fullest) {
    const labels = { tenant_id: pool.tenant_id, pool: poolLabel(pool.pool) };
    // Two pools of a tenant can mask to one label: the fuller one (read first) keeps the series.
    const key = `${labels.tenant_id}\u0000${labels.pool}`;
    if (labelled.has(key)) continue;
    labelled.add(key);
    poolHeadroom.set(labels, Number(pool.headroom));
    poolUtilisation.set(labels, Number(pool.utilisation));
    poolPinHeadroom.set(labels, Number(pool.pin_headroom));
  }
  pools.set({ state: "all" }, Number(counts.pools));
  pools.set({ state: "exhausted" }, Number(counts.exhausted));
  pools.set({ state: "nearly_exhausted" }, Number(counts.nearly_exhausted));
  // No figures yet (a new service, the job not run, or no tenant with a number): NaN, not a reassuring 0.
  poolFiguresAge.set(counts.oldest_computed_at ? Math.max(0, (now - new Date(counts.oldest_computed_at).getTime()) / 1000) : Number.NaN);
}

/** The metrics in Prometheus's text format, and its content type. */
export async function renderMetrics(deps: Pick<Deps, "db" | "clock" | "metrics">): Promise<{ contentType: string; text: string }> {
  await refreshJobs(deps);
  await refreshPools(deps);
  return { contentType: deps.metrics.registry.contentType, text: await deps.metrics.registry.metrics() };
}

/** Where the pool gauges' walk is: the last tenant sized, and the pass it belongs to. */
export interface PoolGaugeWalk {
  after: string | null;
  pass: string | null;
}

export const POOL_GAUGE_WALK_START: PoolGaugeWalk = { after: null, pass: null };

/**
 * One step of the walk, in the job's transaction: the next tenants' pools sized (each with GET /v1/pools's own
 * tenant-scoped query) and written. A tenant whose sizing fails is logged and skipped (its savepoint rolled back, its
 * old figures kept): one tenant's trouble must not stall the gauges of all the others. At the end of a pass, the
 * gauges of tenants it no longer met are removed.
 */
export async function poolGaugeStep(
  deps: Pick<Deps, "clock" | "logger">,
  trx: Knex.Transaction,
  walk: PoolGaugeWalk,
): Promise<{ walk: PoolGaugeWalk; passEnded: boolean; tenants: number }> {
  const now = deps.clock.now();
  const startedAt = Date.now();
  const pass = walk.pass ?? randomUUID();
  const tenants = await store.tenantsWithNumbersAfter(trx, walk.after, TENANTS_PER_RUN);
  let sized = 0;
  for (const tenantId of tenants) {
    try {
      await trx.transaction(async (savepoint) => {
        const rows = (await poolsOfTenant(savepoint, tenantId, now)).map((p) => ({
          tenant_id: tenantId,
          pool: p.pool,
          numbers: p.numbers,
          busiest: p.busiestParticipantSessions,
          headroom: p.headroom,
          utilisation: p.utilisation,
          pin_headroom: p.pinHeadroom,
        }));
        await store.replaceTenantPoolGauges(savepoint, tenantId, rows, pass, now);
      });
    } catch (err) {
      deps.logger.warn({ err, tenantId }, "pool gauges: sizing a tenant's pools failed; its figures are kept as they were");
      // Keep the old rows, but in this pass: the pass's end must not take them for a tenant that left.
      await store.markPoolGaugesPass(trx, tenantId, pass);
    }
    sized++;
    if (Date.now() - startedAt > STEP_BUDGET_MS) break;
  }
  if (sized === tenants.length && tenants.length < TENANTS_PER_RUN) {
    await store.deletePoolGaugesNotOf(trx, pass);
    return { walk: POOL_GAUGE_WALK_START, passEnded: true, tenants: sized };
  }
  return { walk: { after: tenants[sized - 1] ?? walk.after, pass }, passEnded: false, tenants: sized };
}
