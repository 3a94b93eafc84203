import { channel } from "node:diagnostics_channel";
import type { Knex } from "knex";

/** One SQL statement as it was sent, and the call stack (async frames included) that sent it. */
export interface AuditedStatement {
  sql: string;
  stack: string;
}

/**
 * Every statement the server sends, for a listener that wants them: the test suites' tenant-filter audit
 * (test/support/sql-audit-setup.ts). Nothing is built or published while nobody subscribes, which is always
 * outside the tests.
 */
export const statementChannel = channel("maskline:sql-statement");

/** Frames enough to reach the store or test that awaited the statement past knex's own. */
const STACK_FRAMES = 40;

export function publishStatement(sql: string): void {
  if (!statementChannel.hasSubscribers) return;
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = STACK_FRAMES;
  const stack = new Error("statement").stack ?? "";
  Error.stackTraceLimit = limit;
  statementChannel.publish({ sql, stack } satisfies AuditedStatement);
}

/** Publishes what knex sends on `db`, its transactions included (knex re-emits their queries on the parent). */
export function auditStatements(db: Knex): void {
  db.on("query", (query: { sql?: string }) => {
    if (typeof query.sql === "string") publishStatement(query.sql);
  });
}
