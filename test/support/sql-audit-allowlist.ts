/**
 * The statements that cross tenants on purpose, each with why (docs/scaling.md, "What runs per shard"). An entry
 * names the file and function that send the statement (the frame the audit attributes it to), the tenant table it
 * reads without a tenant, and a fragment of its SQL; all three must match. Everything else must name its tenant.
 */
import type { Violation } from "./sql-audit.js";

interface Allowed {
  /** `<path under the repository>#<function>` of the sending frame. */
  from: string;
  table: string;
  sql: RegExp;
  why: string;
}

const ALLOWED: Allowed[] = [
  {
    from: "server/src/stores/maintenance.ts#expireDueSessions",
    table: "sessions",
    sql: /WITH due AS \(\s*SELECT tenant_id, id FROM sessions WHERE/,
    why: "the sweeper finds due sessions of every tenant (sessions_open_expiry); the rest of the statement is by (tenant_id, id)",
  },
  {
    from: "server/src/stores/maintenance.ts#purgePastRetention",
    table: "tenants",
    sql: /FROM tenants t\s+JOIN LATERAL/,
    why: "the retention purge walks every tenant for its retention setting; each tenant's rows are then read by tenant",
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
    // The store and service hand the query on unawaited, so the route is the frame that sent it.
    from: "server/src/routes/admin.ts#",
    table: "tenants",
    sql: /^select \* from "tenants"( where "id" < \$1)? order by "id" desc limit/,
    why: "the operator's admin listing of tenants (stores/tenants.ts listTenants)",
  },
  {
    from: "server/src/stores/outbox.ts#",
    table: "outbox",
    sql: /"dispatched_at" is null|DELETE FROM outbox WHERE \(tenant_id, id\) IN/,
    why: "the job runner's dispatcher and purge take outbox rows of every tenant (the jobs table is the operator's)",
  },
];

const REPO_ROOT = new URL("../../", import.meta.url).pathname;

/** Where a statement came from: the first frame of the stack outside knex, node and server/src/db. */
export function originOf(stack: string): { kind: "server" | "test" | "migration" | "other"; frame: string } {
  for (const line of stack.split("\n").slice(1)) {
    const m = /at (?:async )?(?:(\S+) \()?(\/[^):]+):\d+:\d+\)?/.exec(line);
    if (!m) continue;
    const file = m[2]!;
    if (file.includes("/node_modules/") || file.includes("/server/src/db/")) continue;
    const path = file.startsWith(REPO_ROOT) ? file.slice(REPO_ROOT.length) : file;
    const fn = (m[1] ?? "").replace(/^(Module|Object|Function)\./, "");
    const frame = `${path}#${fn}`;
    if (path.startsWith("server/src/")) return { kind: "server", frame };
    if (path.startsWith("migrations/")) return { kind: "migration", frame };
    if (path.startsWith("test/")) return { kind: "test", frame };
    return { kind: "other", frame };
  }
  return { kind: "other", frame: "?" };
}

export function allowedAcrossTenants(frame: string, violation: Violation, sql: string): boolean {
  return ALLOWED.some((a) => frame.startsWith(a.from) && a.table === violation.table && a.sql.test(sql));
}
