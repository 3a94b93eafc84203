/**
 * The statements that cross tenants on purpose, each with why (docs/scaling.md, "What runs per shard"). An entry
 * names the file and function that wrote the statement (the frame the audit attributes it to,
 * test/support/sql-audit-origin.ts), the tenant table it reads without a tenant, and a fragment of its SQL; all three
 * must match. Everything else must name its tenant, a migration's statements included.
 */
import type { AppendOnlyViolation, Violation } from "./sql-audit.js";

interface Allowed {
  /** `<path under the repository>#<function>` of the sending frame. */
  from: string;
  table: string;
  sql: RegExp;
  why: string;
}

const ALLOWED: Allowed[] = [
  {
    from: "server/src/stores/metrics.ts#tenantsWithNumbersAfter",
    table: "numbers",
    sql: /^SELECT DISTINCT tenant_id FROM numbers WHERE tenant_id > \$1 ORDER BY tenant_id LIMIT/,
    why: "the metrics.pools job walks the tenants that have numbers in id order, a batch per run; each tenant's pools are then sized within the tenant",
  },
  {
    from: "server/src/stores/metrics.ts#deletePoolGaugesNotOf",
    table: "pool_gauges",
    sql: /^DELETE FROM pool_gauges WHERE pass <> \$1$/,
    why: "at the end of a pass, the gauges of tenants the pass no longer met (their last number gone) are removed, whoever they were",
  },
  {
    from: "server/src/stores/metrics.ts#fullestPools",
    table: "pool_gauges",
    sql: /^SELECT tenant_id, pool, [\w, ]+\s+FROM pool_gauges ORDER BY utilisation DESC/,
    why: "GET /metrics names the fullest pools across tenants: the operator's view",
  },
  {
    from: "server/src/stores/metrics.ts#poolCounts",
    table: "pool_gauges",
    sql: /^SELECT count\(\*\)::int AS pools,[\s\S]*\sFROM pool_gauges$/,
    why: "GET /metrics counts pools across tenants (all, exhausted, nearly exhausted): the operator's view",
  },
  {
    from: "server/src/stores/key-rotation.ts#encryptedBatch",
    table: "participants",
    sql: /^SELECT .* FROM "participants"\s+WHERE "\w+_enc" IS NOT NULL/,
    why: "a key rotation walks every encrypted column of every tenant in key order (jobs/rekey.ts); each row is then rewritten by its whole key",
  },
  {
    from: "server/src/stores/key-rotation.ts#countUnderPreviousKeys",
    table: "participants",
    sql: /^SELECT count\(\*\) AS n FROM "participants" WHERE "\w+_enc" IS NOT NULL AND "\w+_enc" NOT LIKE/,
    why: "the operator's key-rotation status counts what is left under an old key, across tenants",
  },
  {
    from: "server/src/stores/key-rotation.ts#encryptedBatch",
    table: "apps",
    sql: /^SELECT .* FROM "apps"\s+WHERE "\w+_enc" IS NOT NULL/,
    why: "a key rotation walks every encrypted column of every tenant in key order (jobs/rekey.ts); each row is then rewritten by its whole key",
  },
  {
    from: "server/src/stores/key-rotation.ts#countUnderPreviousKeys",
    table: "apps",
    sql: /^SELECT count\(\*\) AS n FROM "apps" WHERE "\w+_enc" IS NOT NULL AND "\w+_enc" NOT LIKE/,
    why: "the operator's key-rotation status counts what is left under an old key, across tenants",
  },
  {
    from: "server/src/stores/key-rotation.ts#encryptedBatch",
    table: "webhook_endpoints",
    sql: /^SELECT .* FROM "webhook_endpoints"\s+WHERE "\w+_enc" IS NOT NULL/,
    why: "a key rotation walks every encrypted column of every tenant in key order (jobs/rekey.ts); each row is then rewritten by its whole key",
  },
  {
    from: "server/src/stores/key-rotation.ts#countUnderPreviousKeys",
    table: "webhook_endpoints",
    sql: /^SELECT count\(\*\) AS n FROM "webhook_endpoints" WHERE "\w+_enc" IS NOT NULL AND "\w+_enc" NOT LIKE/,
    why: "the operator's key-rotation status counts what is left under an old key, across tenants",
  },
  {
    from: "server/src/stores/key-rotation.ts#encryptedBatch",
    table: "calls",
    sql: /^SELECT .* FROM "calls"\s+WHERE "\w+_enc" IS NOT NULL/,
    why: "a key rotation walks every encrypted column of every tenant in key order (jobs/rekey.ts); each row is then rewritten by its whole key",
  },
  {
    from: "server/src/stores/key-rotation.ts#countUnderPreviousKeys",
    table: "calls",
    sql: /^SELECT count\(\*\) AS n FROM "calls" WHERE "\w+_enc" IS NOT NULL AND "\w+_enc" NOT LIKE/,
    why: "the operator's key-rotation status counts what is left under an old key, across tenants",
  },
  {
    from: "server/src/stores/key-rotation.ts#encryptedBatch",
    table: "call_steps",
    sql: /^SELECT .* FROM "call_steps"\s+WHERE "\w+_enc" IS NOT NULL/,
    why: "a key rotation walks every encrypted column of every tenant in key order (jobs/rekey.ts); each row is then rewritten by its whole key",
  },
  {
    from: "server/src/stores/key-rotation.ts#countUnderPreviousKeys",
    table: "call_steps",
    sql: /^SELECT count\(\*\) AS n FROM "call_steps" WHERE "\w+_enc" IS NOT NULL AND "\w+_enc" NOT LIKE/,
    why: "the operator's key-rotation status counts what is left under an old key, across tenants",
  },
  {
    from: "server/src/stores/key-rotation.ts#encryptedBatch",
    table: "idempotency_keys",
    sql: /^SELECT .* FROM "idempotency_keys"\s+WHERE "\w+_enc" IS NOT NULL/,
    why: "a key rotation walks every encrypted column of every tenant in key order (jobs/rekey.ts); each row is then rewritten by its whole key",
  },
  {
    from: "server/src/stores/key-rotation.ts#countUnderPreviousKeys",
    table: "idempotency_keys",
    sql: /^SELECT count\(\*\) AS n FROM "idempotency_keys" WHERE "\w+_enc" IS NOT NULL AND "\w+_enc" NOT LIKE/,
    why: "the operator's key-rotation status counts what is left under an old key, across tenants",
  },
  {
    from: "server/src/stores/key-rotation.ts#encryptedBatch",
    table: "exports",
    sql: /^SELECT .* FROM "exports"\s+WHERE "\w+_enc" IS NOT NULL/,
    why: "a key rotation walks every encrypted column of every tenant in key order (jobs/rekey.ts); each row is then rewritten by its whole key",
  },
  {
    from: "server/src/stores/key-rotation.ts#countUnderPreviousKeys",
    table: "exports",
    sql: /^SELECT count\(\*\) AS n FROM "exports" WHERE "\w+_enc" IS NOT NULL AND "\w+_enc" NOT LIKE/,
    why: "the operator's key-rotation status counts what is left under an old key, across tenants",
  },
  {
    from: "server/src/stores/key-rotation.ts#countPinHashesUnderPreviousKeys",
    table: "participants",
    sql: /^SELECT count\(\*\) AS n FROM participants WHERE active AND pin_hash IS NOT NULL/,
    why: "the operator's key-rotation status counts live PIN hashes under an old key, across tenants",
  },
  {
    from: "server/src/stores/key-rotation.ts#rewriteEncrypted",
    table: "idempotency_keys",
    sql: /^UPDATE "idempotency_keys" SET "response_enc" = \$1 WHERE "scope" = \$2 AND "key" = \$3 AND "operation" = \$4/,
    why: "a key rotation rewrites an idempotent result by its whole key (scope, key, operation): the scope is in it",
  },
  {
    from: "server/src/stores/exports.ts#purgeOldExports",
    table: "exports",
    sql: /DELETE FROM exports WHERE \(tenant_id, id\) IN \(SELECT tenant_id, id FROM exports WHERE created_at </,
    why: "exports are kept a week whatever their tenant",
  },
  {
    from: "server/src/stores/maintenance.ts#expireDueSessions",
    table: "sessions",
    sql: /WITH due AS \(\s*SELECT tenant_id, id FROM sessions WHERE/,
    why: "the sweeper finds due sessions of every tenant (sessions_open_expiry); the rest of the statement is by (tenant_id, id)",
  },
  {
    from: "server/src/stores/maintenance.ts#purgeTable",
    table: "tenants",
    sql: /FROM tenants t\s+JOIN LATERAL/,
    why: "the retention purge walks every tenant for its retention setting; each tenant's rows are then read by tenant",
  },
  {
    from: "server/src/stores/recordings.ts#recordingsPastRetention",
    table: "tenants",
    sql: /FROM tenants t\s+JOIN LATERAL/,
    why: "the retention purge walks every tenant for its retention setting, then each tenant's recordings by tenant",
  },
  {
    from: "server/src/stores/pin-routes.ts#purgeStaleLockouts",
    table: "pin_lockouts",
    sql: /DELETE FROM pin_lockouts WHERE \(tenant_id, number_id, caller_bidx\) IN/,
    why: "PIN lockout rows untouched for a day hold nothing live, whatever their tenant",
  },
  {
    from: "server/src/stores/maintenance.ts#purgePastRetention",
    table: "idempotency_keys",
    sql: /delete from "idempotency_keys" where "created_at" </,
    why: "idempotency keys expire after a day whatever their scope",
  },
  {
    from: "server/src/stores/webhook-nonces.ts#purgeNonces",
    table: "webhook_nonces",
    sql: /DELETE FROM webhook_nonces WHERE ctid IN/,
    why: "replay nonces expire after the replay window whatever their tenant",
  },
  {
    from: "server/src/stores/tenants.ts#listTenants",
    table: "tenants",
    sql: /^select \* from "tenants"( where "id" < \$1)? order by "id" desc limit/,
    why: "the operator's admin listing of tenants (routes/admin.ts)",
  },
  {
    from: "server/src/stores/outbox.ts#lockPendingOutbox",
    table: "outbox",
    sql: /"dispatched_at" is null/,
    why: "the job runner's dispatcher takes pending outbox rows of every tenant (the jobs table is the operator's)",
  },
  {
    from: "server/src/stores/outbox.ts#purgeDispatchedOutbox",
    table: "outbox",
    sql: /DELETE FROM outbox WHERE \(tenant_id, id\) IN/,
    why: "the purge of dispatched outbox rows runs across tenants, as the dispatcher does",
  },
  {
    from: "server/src/stores/audit.ts#listAuditEventsAcrossTenants",
    table: "audit_events",
    sql: /^select \* from "audit_events"( where "action" = \$1)?( (where|and) "id" < \$\d)? order by "id" desc limit \$\d$/,
    why: "the operator's view of the audit log across tenants (routes/audit.ts, admin.auditEvents.list); with tenantId it names the tenant",
  },
  {
    from: "server/src/stores/audit.ts#purgeAuditEventsPastRetention",
    table: "audit_events",
    sql: /^DELETE FROM audit_events WHERE \(tenant_id, id\) IN \(\s*SELECT tenant_id, id FROM audit_events\s+WHERE created_at </,
    why: "the audit log has one retention for the whole service (MASKLINE_AUDIT_RETENTION_DAYS), whatever the tenant",
  },
  {
    from: "server/src/stores/console-sessions.ts#purgeEndedConsoleSessions",
    table: "console_sessions",
    sql: /^DELETE FROM console_sessions WHERE \(scope, id\) IN \(\s*SELECT scope, id FROM console_sessions WHERE expires_at </,
    why: "the retention purge removes every tenant's (and the operator's) console sessions a day after they ended",
  },
  {
    from: "migrations/006_idempotency_claims.ts#up",
    table: "idempotency_keys",
    sql: /^update "idempotency_keys" set "claimed_at" = "created_at"/,
    why: "a migration's backfill covers every tenant's rows",
  },
  {
    from: "migrations/009_tenant_keys.ts#up",
    table: "api_keys",
    sql: /INSERT INTO api_key_lookup \(secret_hash, tenant_id, key_id\)\s+SELECT/,
    why: "a migration's backfill of the key lookup covers every tenant's keys",
  },
  {
    from: "migrations/009_tenant_keys.ts#up",
    table: "apps",
    sql: /^INSERT INTO app_lookup \(app_id, tenant_id\) SELECT id, tenant_id FROM apps/,
    why: "a migration's backfill of the app lookup covers every tenant's apps",
  },
];

/** An entry names one function: `from` is matched whole, never as a prefix of a file's frames. */
export function allowedAcrossTenants(frame: string, violation: Violation, sql: string): boolean {
  return ALLOWED.some((a) => frame === a.from && a.table === violation.table && a.sql.test(sql));
}

/**
 * The only functions that may DELETE from an append-only table (test/support/sql-audit.ts, appendOnlyViolations), each
 * with why. Nothing may UPDATE or TRUNCATE one: there is no entry for that, on purpose.
 */
const APPEND_ONLY_DELETERS: Array<{ from: string; table: string; why: string }> = [
  {
    from: "server/src/stores/audit.ts#purgeAuditEventsPastRetention",
    table: "audit_events",
    why: "the retention purge (jobs/sweeper.ts) removes audit events past MASKLINE_AUDIT_RETENTION_DAYS, and nothing else does",
  },
];

export function allowedOnAppendOnly(frame: string, violation: AppendOnlyViolation): boolean {
  return violation.write === "delete" && APPEND_ONLY_DELETERS.some((a) => frame === a.from && a.table === violation.table);
}
