/**
 * The figures `GET /metrics` reads at each scrape (services/metrics.ts): the job queue's depth and age, and which
 * tenants have pools to size. Both are across tenants on purpose: they are the operator's view of the service.
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

/** Tenants with at least one active DID: the ones whose pools are sized (numbers_tenant index). */
export async function tenantsWithNumbers(db: Knex, limit: number): Promise<string[]> {
  const { rows } = await db.raw<{ rows: Array<{ tenant_id: string }> }>(
    "SELECT DISTINCT tenant_id FROM numbers WHERE status = 'active' ORDER BY tenant_id LIMIT ?",
    [limit],
  );
  return rows.map((r) => r.tenant_id);
}
