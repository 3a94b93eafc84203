import { beforeAll, describe, expect, it } from "vitest";
import { loadSqlParser, tenantFilterViolations, toDollarParams } from "../support/sql-audit.js";
import { allowedAcrossTenants } from "../support/sql-audit-allowlist.js";
import { originOf, statementOrigin, trackBuilderOrigins, type Origin } from "../support/sql-audit-origin.js";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDatabase } from "../../server/src/db/database.js";
import { statementChannel, type AuditedStatement } from "../../server/src/db/statement-audit.js";
import { ACTIVE_ROUTE_SQL, ANSWER_LOOKUP_SQL, ENDED_ROUTE_SQL } from "../../server/src/stores/routing.js";

const tables = (sql: string) => tenantFilterViolations(sql).map((v) => `${v.table} as ${v.alias}`);

beforeAll(() => loadSqlParser());

describe("the tenant-filter audit", () => {
  it("catches a statement on a tenant table without a tenant filter", () => {
    expect(tables(`select * from "sessions" where "id" = ?`)).toEqual(["sessions as sessions"]);
    expect(tables(`UPDATE participants SET active = false WHERE session_id = $1`)).toEqual(["participants as participants"]);
    expect(tables(`DELETE FROM calls WHERE started_at < $1`)).toEqual(["calls as calls"]);
  });

  it("passes a statement that names the tenant, by value, list, ANY or row", () => {
    expect(tables(`select * from "sessions" where "tenant_id" = ? and "id" = ? limit ?`)).toEqual([]);
    expect(tables(`SELECT 1 FROM calls WHERE tenant_id IN ($1, $2)`)).toEqual([]);
    expect(tables(`SELECT 1 FROM calls WHERE tenant_id = ANY($1)`)).toEqual([]);
    expect(tables(`update "participants" set "active" = ? where ("tenant_id", "session_id") in ((?, ?), (?, ?))`)).toEqual([]);
    expect(tables(`DELETE FROM sessions WHERE (tenant_id, id) IN (SELECT tenant_id, id FROM sessions WHERE tenant_id = $1 LIMIT 5)`)).toEqual([]);
  });

  it("catches a join without tenant equality, and passes it with one", () => {
    const without = `SELECT 1 FROM participants p JOIN sessions s ON s.id = p.session_id WHERE p.tenant_id = $1`;
    expect(tables(without)).toEqual(["sessions as s"]);
    const joined = `SELECT 1 FROM participants p JOIN sessions s ON s.tenant_id = p.tenant_id AND s.id = p.session_id WHERE p.tenant_id = $1`;
    expect(tables(joined)).toEqual([]);
  });

  it("never lets tenant equality between two unfiltered tables stand for a filter", () => {
    expect(tables(`SELECT 1 FROM participants p JOIN sessions s ON s.tenant_id = p.tenant_id`)).toEqual(["participants as p", "sessions as s"]);
  });

  it("reads a LEFT JOIN's ON clause as restricting its right side only", () => {
    expect(tables(`SELECT 1 FROM sessions s LEFT JOIN calls c ON c.tenant_id = $1 AND s.tenant_id = $2`)).toEqual(["sessions as s"]);
  });

  it("checks subqueries, CTEs and lateral steps, where an enclosing row's tenant counts as a value", () => {
    expect(tables(`SELECT 1 FROM participants p WHERE p.tenant_id = $1 AND EXISTS (SELECT 1 FROM sessions s WHERE s.id = p.session_id)`)).toEqual([
      "sessions as s",
    ]);
    expect(tables(`SELECT 1 FROM participants p WHERE p.tenant_id = $1 AND EXISTS (SELECT 1 FROM sessions s WHERE s.tenant_id = p.tenant_id AND s.id = p.session_id)`)).toEqual([]);
    expect(tables(`WITH due AS (SELECT tenant_id, id FROM sessions WHERE status = 'open') UPDATE sessions s SET status = 'x' FROM due WHERE s.tenant_id = due.tenant_id AND s.id = due.id`)).toEqual([
      "sessions as sessions",
    ]);
    expect(tables(`SELECT * FROM numbers n JOIN LATERAL (SELECT id FROM participants WHERE proxy_number_id = n.id LIMIT 1) p ON true WHERE n.tenant_id = $1`)).toEqual([
      "participants as participants",
    ]);
  });

  it("wants the tenant column in an INSERT, and reads tenants by id and idempotency keys by scope", () => {
    expect(tables(`insert into "calls" ("id", "call_uuid") values (?, ?)`)).toEqual(["calls as calls"]);
    expect(tables(`insert into "calls" ("id", "tenant_id", "call_uuid") values (?, ?, ?) on conflict ("tenant_id", "call_uuid") do nothing`)).toEqual([]);
    expect(tables(`select * from "tenants" where "id" = ?`)).toEqual([]);
    expect(tables(`select * from "tenants" order by "id" desc limit ?`)).toEqual(["tenants as tenants"]);
    expect(tables(`select * from "idempotency_keys" where "scope" = ? and "key" = ? and "operation" = ?`)).toEqual([]);
  });

  it("leaves reference tables and the operator's jobs alone", () => {
    expect(tables(`SELECT key_id AS id, tenant_id FROM api_key_lookup WHERE secret_hash = $1`)).toEqual([]);
    expect(tables(`select * from "jobs" where "status" = ?`)).toEqual([]);
  });

  it("reports what it cannot parse instead of passing it", () => {
    expect(tenantFilterViolations("SELEKT * FROM sessions")[0]?.reason).toMatch(/unparseable/);
  });

  it("passes the hot routing statements, every probe bound to the tenant", () => {
    expect(tables(ACTIVE_ROUTE_SQL)).toEqual([]);
    expect(tables(ENDED_ROUTE_SQL)).toEqual([]);
    expect(tables(ANSWER_LOOKUP_SQL)).toEqual([]);
  });

  it("numbers knex's ? placeholders outside quoted text", () => {
    expect(toDollarParams(`select '?' from "a?" where x = ? and y = ?`)).toBe(`select '?' from "a?" where x = $1 and y = $2`);
  });

  it("attributes a statement to the first frame outside knex and the db layer, and allows only what is listed", () => {
    const stack = [
      "Error: statement",
      "    at publishStatement (/work/main/server/src/db/statement-audit.ts:24:17)",
      "    at Client_PG.emit (node:events:524:28)",
      "    at /work/main/node_modules/knex/lib/execution/runner.js:138:18",
      "    at async Module.expireDueSessions (/work/main/server/src/stores/maintenance.ts:14:3)",
      "    at async /work/main/test/integration/sweeper.test.ts:20:5",
    ].join("\n");
    const origin = originOf(stack.replaceAll("/work/main/", new URL("../../", import.meta.url).pathname));
    expect(origin).toEqual({ kind: "server", frame: "server/src/stores/maintenance.ts#expireDueSessions" });
    const sweep = `WITH due AS (SELECT tenant_id, id FROM sessions WHERE status = 'open') SELECT 1`;
    const [violation] = tenantFilterViolations(sweep);
    expect(allowedAcrossTenants(origin.frame, violation!, sweep)).toBe(true);
    expect(allowedAcrossTenants("server/src/stores/sessions.ts#listSessions", violation!, sweep)).toBe(false);
  });

  it("attributes a statement to the function that built it, not the one that happened to await it", async () => {
    trackBuilderOrigins();
    const dir = mkdtempSync(join(tmpdir(), "sql-audit-"));
    const db = await createDatabase({ databaseUrl: undefined, dataDir: dir, poolMax: 1 });
    const seen: Array<{ sql: string; origin: Origin }> = [];
    const listen = (m: unknown) => {
      const { sql, stack } = m as AuditedStatement;
      seen.push({ sql, origin: statementOrigin(stack) });
    };
    subscribe(statementChannel.name, listen);
    try {
      function buildsTheStatement() {
        return db.raw("select 1 as built");
      }
      const awaitsIt = async (statement: PromiseLike<unknown>) => {
        await new Promise((r) => setTimeout(r, 1));
        await statement;
      };
      await awaitsIt(buildsTheStatement());
      await db.transaction(async (trx) => trx.raw("select 2 as inside"));
    } finally {
      unsubscribe(statementChannel.name, listen);
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
    expect(seen.find((s) => s.sql.includes("built"))?.origin).toEqual({ kind: "test", frame: "test/unit/sql-audit.test.ts#buildsTheStatement" });
    // knex's own BEGIN/COMMIT have no builder: they keep the stack they were sent with, and are checked like the rest.
    expect(seen.find((s) => /^COMMIT/.test(s.sql))?.origin.kind).toBe("other");
  });
});
