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
 * Privacy by design: sessions (with their participants' encrypted numbers) and call records older than the
 * tenant's retention are deleted. Retention counts from when a session ended, or when a call started.
 */
export async function purgePastRetention(trx: Knex.Transaction, now: Date, defaultDays: number, batchSize: number) {
  // Per tenant (a small table) and then an index range scan on each big one: sessions_ended_at, calls_started_at.
  const retention = `make_interval(days => ${retentionDaysSql("t.settings", "?::int")})`;
  const sessions = await trx.raw<{ rowCount: number }>(
    `DELETE FROM sessions WHERE (tenant_id, id) IN (
       SELECT s.tenant_id, s.id FROM tenants t
         JOIN LATERAL (
           SELECT tenant_id, id FROM sessions s
            WHERE s.tenant_id = t.id AND ${sessionMarkedEndedSql("s")}
              AND ${sessionEndedAtSql("s")} < ?::timestamptz - ${retention}
            LIMIT ?) s ON true
        LIMIT ?)`,
    [now, defaultDays, batchSize, batchSize],
  );
  const calls = await trx.raw<{ rowCount: number }>(
    `DELETE FROM calls WHERE (tenant_id, id) IN (
       SELECT c.tenant_id, c.id FROM tenants t
         JOIN LATERAL (
           SELECT tenant_id, id FROM calls c
            WHERE c.tenant_id = t.id AND c.started_at < ?::timestamptz - ${retention}
            LIMIT ?) c ON true
        LIMIT ?)`,
    [now, defaultDays, batchSize, batchSize],
  );
  // Events (and, by cascade, their delivery attempts) are kept as long as the calls and sessions they describe.
  const events = await trx.raw<{ rowCount: number }>(
    `DELETE FROM events WHERE (tenant_id, id) IN (
       SELECT e.tenant_id, e.id FROM tenants t
         JOIN LATERAL (
           SELECT tenant_id, id FROM events e
            WHERE e.tenant_id = t.id AND e.created_at < ?::timestamptz - ${retention}
            LIMIT ?) e ON true
        LIMIT ?)`,
    [now, defaultDays, batchSize, batchSize],
  );
  const keys = await trx("idempotency_keys").where("created_at", "<", new Date(now.getTime() - 24 * 3600_000)).delete();
  // The replay ledger is written only while Redis is away; a nonce is of no use past the replay window.
  const nonces = await purgeNonces(trx, new Date(now.getTime() - NONCE_TTL_MS), batchSize);
  return { sessions: sessions.rowCount ?? 0, calls: calls.rowCount ?? 0, events: events.rowCount ?? 0, idempotencyKeys: keys, nonces };
}
