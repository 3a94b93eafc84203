/**
 * The outbox (migration 008): what a change wants told or done elsewhere, written in the change's own
 * transaction, so the record exists exactly when the change does. The runner's dispatch job turns each row into
 * its jobs (server/src/jobs/outbox-dispatch.ts).
 */
import type { Knex } from "knex";

export interface OutboxRow {
  tenant_id: string;
  id: number;
  topic: string;
  payload: Record<string, unknown>;
  created_at: Date;
  dispatched_at: Date | null;
  dispatched_jobs: number | null;
  /** Failed dispatches so far; after a few the row is set aside (set_aside_at) with its last error. */
  dispatch_failures: number;
  last_error: string | null;
  set_aside_at: Date | null;
}

/**
 * Records `topic` for the tenant inside `trx`, the transaction of the change it records (a transaction is
 * required: an outbox row written on its own could exist for a change that rolled back, or be lost after one
 * that committed). The payload is what the subscribers need; keep real phone numbers out of it.
 */
export async function writeOutbox(
  trx: Knex.Transaction,
  row: { tenantId: string; topic: string; payload?: Record<string, unknown> },
): Promise<number> {
  const [inserted] = await trx("outbox")
    .insert({ tenant_id: row.tenantId, topic: row.topic, payload: JSON.stringify(row.payload ?? {}) })
    .returning("id");
  return Number((inserted as { id: number }).id);
}

/** Pending rows of the given topics, oldest first, locked for the dispatching transaction (SKIP LOCKED); set-aside rows wait for the operator. */
export async function lockPendingOutbox(trx: Knex.Transaction, topics: string[], limit: number): Promise<OutboxRow[]> {
  if (topics.length === 0) return [];
  const rows = (await trx("outbox")
    .whereNull("dispatched_at")
    .whereNull("set_aside_at")
    .whereIn("topic", topics)
    .orderBy("id")
    .limit(limit)
    .forUpdate()
    .skipLocked()) as OutboxRow[];
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}

export async function markDispatched(trx: Knex.Transaction, tenantId: string, id: number, jobs: number, now: Date): Promise<void> {
  await trx("outbox").where({ tenant_id: tenantId, id }).whereNull("dispatched_at").update({ dispatched_at: now, dispatched_jobs: jobs });
}

/** markDispatched for many rows in one statement. */
export async function markManyDispatched(
  trx: Knex.Transaction,
  rows: Array<{ tenantId: string; id: number; jobs: number }>,
  now: Date,
): Promise<void> {
  if (rows.length === 0) return;
  const values = rows.map(() => "(?, ?::bigint, ?::integer)").join(", ");
  await trx.raw(
    `UPDATE outbox o SET dispatched_at = ?, dispatched_jobs = v.jobs
       FROM (VALUES ${values}) AS v (tenant_id, id, jobs)
      WHERE o.tenant_id = v.tenant_id AND o.id = v.id AND o.dispatched_at IS NULL`,
    [now, ...rows.flatMap((r) => [r.tenantId, r.id, r.jobs])],
  );
}

/** Counts a failed dispatch of the row; at `setAsideAfter` failures the row is set aside. */
export async function recordDispatchFailure(
  trx: Knex.Transaction,
  row: { tenantId: string; id: number; error: string; now: Date; setAsideAfter: number },
): Promise<{ failures: number; setAside: boolean }> {
  const [updated] = (await trx("outbox")
    .where({ tenant_id: row.tenantId, id: row.id })
    .whereNull("dispatched_at")
    .update({
      dispatch_failures: trx.raw("dispatch_failures + 1"),
      last_error: row.error,
      set_aside_at: trx.raw("CASE WHEN dispatch_failures + 1 >= ? THEN ?::timestamptz END", [row.setAsideAfter, row.now]),
    })
    .returning(["dispatch_failures", "set_aside_at"])) as Array<{ dispatch_failures: number; set_aside_at: Date | null }>;
  return { failures: Number(updated?.dispatch_failures ?? 0), setAside: Boolean(updated?.set_aside_at) };
}

/** Deletes rows dispatched before `before` (their jobs carry what they need). */
export async function purgeDispatchedOutbox(trx: Knex.Transaction, before: Date, limit: number): Promise<number> {
  const result = await trx.raw<{ rowCount: number }>(
    `DELETE FROM outbox WHERE (tenant_id, id) IN (
       SELECT tenant_id, id FROM outbox WHERE dispatched_at < ? LIMIT ?)`,
    [before, limit],
  );
  return result.rowCount ?? 0;
}
