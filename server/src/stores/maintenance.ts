import type { Knex } from "knex";
import { purgeNonces } from "./webhook-nonces.js";
import { sessionEndedAtSql, sessionLapsedSql, sessionMarkedEndedSql } from "./session-ended.js";
import { NONCE_TTL_MS } from "../domain/replay-window.js";
import { retentionDaysSql } from "../domain/tenant-settings.js";

/** Marks a batch of open sessions past their expiry as expired and releases their participants; returns their keys. */
export async function expireDueSessions(
  trx: Knex.Transaction,
  now: Date,
  batchSize: number,
): Promise<Array<{ tenantId: string; id: string }>> {
  const result = await trx.raw<{ rows: Array<{ tenant_id: string; id: string }> }>(
    `WITH due AS (
       SELECT tenant_id, id FROM sessions WHERE ${sessionLapsedSql("sessions", "?")}
        ORDER BY expires_at LIMIT ? FOR UPDATE SKIP LOCKED
     )
     UPDATE sessions s SET status = 'expired' FROM due
      WHERE s.tenant_id = due.tenant_id AND s.id = due.id RETURNING s.tenant_id, s.id`,
    [now, batchSize],
  );
  const keys = result.rows.map((r) => [r.tenant_id, r.id]);
  if (keys.length > 0) {
    await trx("participants")
      .whereIn(["tenant_id", "session_id"], keys)
      .where({ active: true })
      .update({ active: false, released_at: now });
  }
  return result.rows.map((r) => ({ tenantId: r.tenant_id, id: r.id }));
}

/**
 * Deletes up to `batchSize` rows of `table` whose age (`agedAt`, an expression on alias `r`, which `where` may
 * narrow further) is past their tenant's retention: per tenant (a small table), then an index range scan on the
 * big one (sessions_ended_at, calls_started_at, events_created_at).
 */
async function purgeTable(
  trx: Knex.Transaction,
  table: "sessions" | "calls" | "events",
  rule: { agedAt: string; where?: string },
  now: Date,
  defaultDays: number,
  batchSize: number,
): Promise<number> {
  const retention = `make_interval(days => ${retentionDaysSql("t.settings", "?::int")})`;
  const result = await trx.raw<{ rowCount: number }>(
    `DELETE FROM ${table} WHERE (tenant_id, id) IN (
       SELECT r.tenant_id, r.id FROM tenants t
         JOIN LATERAL (
           SELECT tenant_id, id FROM ${table} r
            WHERE r.tenant_id = t.id${rule.where ? ` AND ${rule.where}` : ""}
              AND ${rule.agedAt} < ?::timestamptz - ${retention}
            LIMIT ?) r ON true
        LIMIT ?)`,
    [now, defaultDays, batchSize, batchSize],
  );
  return result.rowCount ?? 0;
}

/**
 * Privacy by design: sessions (with their participants' encrypted numbers), call records and events older than the
 * tenant's retention are deleted. Retention counts from when a session ended, a call started, an event happened.
 */
export async function purgePastRetention(trx: Knex.Transaction, now: Date, defaultDays: number, batchSize: number) {
  const purge = (table: "sessions" | "calls" | "events", rule: { agedAt: string; where?: string }) =>
    purgeTable(trx, table, rule, now, defaultDays, batchSize);
  const sessions = await purge("sessions", { agedAt: sessionEndedAtSql("r"), where: sessionMarkedEndedSql("r") });
  // A call with a recording waits for the recording's deletion at the carrier (jobs/recording-delete.ts).
  const calls = await purge("calls", {
    agedAt: "r.started_at",
    where: "NOT EXISTS (SELECT 1 FROM recordings rec WHERE rec.tenant_id = r.tenant_id AND rec.call_id = r.id)",
  });
  // Events (and, by cascade, their delivery attempts) are kept as long as the calls and sessions they describe.
  const events = await purge("events", { agedAt: "r.created_at" });
  const keys = await trx("idempotency_keys").where("created_at", "<", new Date(now.getTime() - 24 * 3600_000)).delete();
  // The replay ledger is written only while Redis is away; a nonce is of no use past the replay window.
  const nonces = await purgeNonces(trx, new Date(now.getTime() - NONCE_TTL_MS), batchSize);
  return { sessions, calls, events, idempotencyKeys: keys, nonces };
}
