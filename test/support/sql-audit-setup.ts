/**
 * Runs in every test file (vitest setupFiles): records each SQL statement sent while the file's tests run
 * (server/src/db/statement-audit.ts) and fails the file, after its tests, if one touches a tenant's table without
 * naming the tenant (test/support/sql-audit.ts) and is not listed in test/support/sql-audit-allowlist.ts. Every
 * statement is checked, whoever sent it, except those a test wrote itself (setting up a row, reading one back),
 * which are not the product's: a statement is the test's only when the knex builder that made it was built in test/
 * (test/support/sql-audit-origin.ts), so a server statement never passes as a test's for lack of a frame.
 * The same pass enforces the append-only tables (the audit log): any UPDATE or TRUNCATE of one, and any DELETE not sent
 * by a function the allowlist names for it (the retention purge), fails the file too (appendOnlyViolations).
 * MASKLINE_SQL_AUDIT=off turns the audit off for a local run.
 */
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { afterAll } from "vitest";
import { statementChannel, type AuditedStatement } from "../../server/src/db/statement-audit.js";
import { appendOnlyViolations, loadSqlParser, tenantFilterViolations, type AppendOnlyViolation, type Violation } from "./sql-audit.js";
import { allowedAcrossTenants, allowedOnAppendOnly } from "./sql-audit-allowlist.js";
import { statementOrigin, trackBuilderOrigins } from "./sql-audit-origin.js";

interface Finding {
  sql: string;
  origin: string;
  violations: Violation[];
}

if (process.env.MASKLINE_SQL_AUDIT !== "off") {
  await loadSqlParser();
  trackBuilderOrigins();
  const verdicts = new Map<string, Violation[]>();
  const appendOnlyVerdicts = new Map<string, AppendOnlyViolation[]>();
  const findings = new Map<string, Finding>();
  const onStatement = (message: unknown) => {
    const { sql, stack } = message as AuditedStatement;
    const origin = statementOrigin(stack);
    if (origin.kind === "test") return;
    let violations = verdicts.get(sql);
    if (!violations) verdicts.set(sql, (violations = tenantFilterViolations(sql)));
    const unexplained = violations.filter((v) => !allowedAcrossTenants(origin.frame, v, sql));
    let writes = appendOnlyVerdicts.get(sql);
    if (!writes) appendOnlyVerdicts.set(sql, (writes = appendOnlyViolations(sql)));
    for (const w of writes) {
      if (!allowedOnAppendOnly(origin.frame, w)) unexplained.push({ table: w.table, alias: w.table, reason: `${w.write.toUpperCase()} of an append-only table` });
    }
    if (unexplained.length > 0) findings.set(`${origin.frame}\n${sql}`, { sql, origin: origin.frame, violations: unexplained });
  };
  subscribe(statementChannel.name, onStatement);
  afterAll(() => {
    unsubscribe(statementChannel.name, onStatement);
    if (findings.size === 0) return;
    const report = [...findings.values()]
      .map((f) => `- ${f.origin}\n  ${f.violations.map((v) => `${v.table} (as ${v.alias}): ${v.reason}`).join("; ")}\n  ${f.sql.replace(/\s+/g, " ")}`)
      .join("\n");
    throw new Error(
      `SQL audit: ${findings.size} statement(s) on tenant tables without a tenant filter, or changing an append-only table ` +
        `(add tenant_id to the statement, or explain it in test/support/sql-audit-allowlist.ts; audit_events is never ` +
        `updated, and deleted only by its retention purge):\n${report}`,
    );
  });
}
