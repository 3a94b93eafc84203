/**
 * What a tenant uses (GET /v1/usage, the console's overview, and the operator's view of a tenant). Each count is one
 * probe of an index that leads with tenant_id: calls by (tenant_id, started_at), live
 * sessions by (tenant_id, expires_at) over open ones, numbers by their tenant prefix (migration 018). Read on a
 * console page load, not on a hot path.
 */
import type { Knex } from "knex";

export async function callsByDecisionSince(db: Knex, tenantId: string, since: Date): Promise<Array<{ decision: string; n: number }>> {
  const rows = await db("calls")
    .where({ tenant_id: tenantId })
    .where("started_at", ">=", since)
    .groupBy("decision")
    .select("decision", db.raw("count(*)::int AS n"));
  return rows as Array<{ decision: string; n: number }>;
}

/** Open sessions not yet past their expiry, whatever the sweeper has got round to. */
export async function liveSessionCount(db: Knex, tenantId: string, now: Date): Promise<number> {
  const row = await db("sessions")
    .where({ tenant_id: tenantId, status: "open" })
    .where("expires_at", ">", now)
    .first(db.raw("count(*)::int AS n"));
  return Number((row as { n?: number } | undefined)?.n ?? 0);
}

export async function activeNumberCount(db: Knex, tenantId: string): Promise<number> {
  const row = await db("numbers").where({ tenant_id: tenantId, status: "active" }).first(db.raw("count(*)::int AS n"));
  return Number((row as { n?: number } | undefined)?.n ?? 0);
}
