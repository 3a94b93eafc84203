/**
 * The figures `GET /metrics` reads (services/metrics.ts): the job queue's depth and age, and the pool gauges the
 * `metrics.pools` job keeps (jobs/pool-gauges.ts). The reads are across tenants on purpose: they are the operator's
 * view of the service. The job's writes are a tenant at a time, except the sweep of tenants that have left the walk.
 */
import type { Knex } from "knex";

export interface JobQueueRow {
  kind: string;
  status: string;
  jobs: number;
  /** Seconds the oldest due, unclaimed job has waited past its run time (0 when none is due). */
  oldest_due_seconds: number;
}

/** Unfinished jobs by kind and status (the claim index covers status and run_at). */
export async function jobQueue(db: Knex, now: Date): Promise<JobQueueRow[]> {
  const { rows } = await db.raw<{ rows: JobQueueRow[] }>(
    `SELECT kind, status, count(*)::int AS jobs,
            coalesce(extract(epoch FROM ?::timestamptz - min(run_at) FILTER (WHERE status IN ('queued', 'failed') AND run_at <= ?)), 0)::float AS oldest_due_seconds
       FROM jobs WHERE status IN ('queued', 'failed', 'running')
      GROUP BY kind, status`,
    [now, now],
  );
  return rows;
}

/** The next tenants with at least one number, in id order after `after` (the walk of the pool gauges' job). */
export async function tenantsWithNumbersAfter(db: Knex, after: string | null, limit: number): Promise<string[]> {
  const { rows } = await db.raw<{ rows: Array<{ tenant_id: string }> }>(
    `SELECT DISTINCT tenant_id FROM numbers WHERE tenant_id > ? ORDER BY tenant_id LIMIT ?`,
    [after ?? "", limit],
  );
  return rows.map((r) => r.tenant_id);
}

export interface PoolGaugeRow {
  tenant_id: string;
  pool: string;
  numbers: number;
  busiest: number;
  headroom: number;
  utilisation: number;
  pin_headroom: number;
}

/** A tenant's pools as they are now, stamped with the walk's pass: written, and its pools that hold no number removed. */
export async function replaceTenantPoolGauges(trx: Knex, tenantId: string, rows: PoolGaugeRow[], pass: string, now: Date): Promise<void> {
  if (rows.length > 0) {
    await trx("pool_gauges")
      .insert(rows.map((r) => ({ ...r, computed_at: now, pass })))
      .onConflict(["tenant_id", "pool"])
      .merge();
  }
  await trx("pool_gauges")
    .where({ tenant_id: tenantId })
    .whereNotIn(
      "pool",
      rows.map((r) => r.pool),
    )
    .delete();
}

/** A tenant's rows kept as they are but counted in this pass (its sizing failed; it has not left). */
export async function markPoolGaugesPass(trx: Knex, tenantId: string, pass: string): Promise<void> {
  await trx("pool_gauges").where({ tenant_id: tenantId }).update({ pass });
}

/** After a whole pass: the gauges of tenants the pass no longer met (their last number gone), across tenants. */
export async function deletePoolGaugesNotOf(trx: Knex, pass: string): Promise<void> {
  await trx.raw("DELETE FROM pool_gauges WHERE pass <> ?", [pass]);
}

/** The fullest pools across tenants (highest utilisation first), for the per-pool gauges. */
export async function fullestPools(db: Knex, limit: number): Promise<PoolGaugeRow[]> {
  const { rows } = await db.raw<{ rows: PoolGaugeRow[] }>(
    `SELECT tenant_id, pool, numbers, busiest, headroom, utilisation, pin_headroom
       FROM pool_gauges ORDER BY utilisation DESC, tenant_id, pool LIMIT ?`,
    [limit],
  );
  return rows;
}

export interface PoolCountsRow {
  pools: number;
  exhausted: number;
  nearly_exhausted: number;
  oldest_computed_at: Date | null;
}

/** How many pools there are, how many have no headroom, and how many are at 80 % or more; and the oldest figure. */
export async function poolCounts(db: Knex): Promise<PoolCountsRow> {
  const { rows } = await db.raw<{ rows: PoolCountsRow[] }>(
    `SELECT count(*)::int AS pools,
            (count(*) FILTER (WHERE headroom = 0 AND numbers > 0))::int AS exhausted,
            (count(*) FILTER (WHERE utilisation >= 0.8))::int AS nearly_exhausted,
            min(computed_at) AS oldest_computed_at
       FROM pool_gauges`,
  );
  return rows[0]!;
}
