/**
 * The audit log's rows (migration 015, docs/audit-log.md). Append-only: this module inserts, reads, and deletes only
 * what is past the log's retention. There is no update here and must never be one; the test suite's SQL audit fails
 * on any UPDATE of audit_events, and on any DELETE sent from anywhere but purgeAuditEventsPastRetention
 * (test/support/sql-audit-allowlist.ts, APPEND_ONLY).
 */
import type { Knex } from "knex";

export interface AuditEventRow {
  tenant_id: string;
  id: string;
  actor_type: "api_key" | "operator";
  /** Null exactly when the operator acted. */
  api_key_id: string | null;
  /** The console session the change was made in; null when made with the key or token itself. */
  console_session_id: string | null;
  action: string;
  resource_type: string;
  resource_id: string | null;
  ip: string | null;
  request_id: string;
  created_at: Date;
}

export async function insertAuditEvent(db: Knex, row: AuditEventRow): Promise<void> {
  await db<AuditEventRow>("audit_events").insert(row);
}

export interface AuditEventFilter {
  action?: string;
  resourceId?: string;
  limit: number;
  after?: string;
}

/**
 * One tenant's events, newest first, keyset on the time-sortable id: the primary key read backwards, or the
 * (tenant_id, action, id) and (tenant_id, resource_id, id) indexes with a filter.
 */
export async function listAuditEvents(db: Knex, tenantId: string, f: AuditEventFilter): Promise<AuditEventRow[]> {
  const q = db<AuditEventRow>("audit_events").where({ tenant_id: tenantId }).orderBy("id", "desc").limit(f.limit + 1);
  if (f.action) q.where({ action: f.action });
  if (f.resourceId) q.where({ resource_id: f.resourceId });
  if (f.after) q.where("id", "<", f.after);
  return q;
}

export interface OperatorAuditEventFilter {
  tenantId?: string;
  action?: string;
  limit: number;
  after?: string;
}

/**
 * The operator's view: every tenant's events, newest first, on audit_events_id (one tenant's with `tenantId`, on the
 * primary key). Ids are unique across tenants (ULIDs), so the id alone is the keyset.
 */
export async function listAuditEventsAcrossTenants(db: Knex, f: OperatorAuditEventFilter): Promise<AuditEventRow[]> {
  const q = db<AuditEventRow>("audit_events").orderBy("id", "desc").limit(f.limit + 1);
  if (f.tenantId) q.where({ tenant_id: f.tenantId });
  if (f.action) q.where({ action: f.action });
  if (f.after) q.where("id", "<", f.after);
  return q;
}

/**
 * The only DELETE of audit_events: rows older than the log's retention, whatever their tenant (one retention for the
 * whole service, MASKLINE_AUDIT_RETENTION_DAYS), at most `batchSize` of them, oldest first on audit_events_created_at.
 */
export async function purgeAuditEventsPastRetention(
  trx: Knex.Transaction,
  now: Date,
  retentionDays: number,
  batchSize: number,
): Promise<number> {
  const result = await trx.raw<{ rowCount: number }>(
    `DELETE FROM audit_events WHERE (tenant_id, id) IN (
       SELECT tenant_id, id FROM audit_events
        WHERE created_at < ?::timestamptz - make_interval(days => ?::int)
        ORDER BY created_at LIMIT ?)`,
    [now, retentionDays, batchSize],
  );
  return result.rowCount ?? 0;
}
