import type { Knex } from "knex";
import { publishStatement } from "./statement-audit.js";

interface PgConnection {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[]; rowCount: number | null }>;
}
interface PoolingClient {
  config: { client?: unknown };
  acquireConnection(): Promise<PgConnection>;
  releaseConnection(connection: PgConnection): Promise<void>;
}

const checkedNames = new Set<string>();

/**
 * The embedded fallback binds by position, so $n must run 1…n in order, each once, with n values. Checked once per
 * statement name in both modes, so a misnumbered statement fails the Postgres test run too, not only embedded.
 */
export function assertPlaceholdersInOrder(name: string, text: string, valueCount: number): void {
  const numbers = [...text.matchAll(/\$(\d+)/g)].map((m) => Number(m[1]));
  const inOrder = numbers.length === valueCount && numbers.every((n, i) => n === i + 1);
  if (!inOrder) {
    throw new Error(`prepared statement ${name}: placeholders must be $1…$${valueCount} in order, each once`);
  }
  checkedNames.add(name);
}

/**
 * A hot-path query as a named prepared statement: Postgres plans it once per connection, and no query builder
 * runs per call (the profile put knex's SQL compilation at ~170 µs a request). Text uses $1…$n, each once and in
 * order. The embedded PGlite has no prepared statements through knex: there it runs as an ordinary raw query.
 *
 * Planned once means: after five executions Postgres keeps a generic plan for the connection's lifetime, made from
 * what it knew then, and on a new database that is tables of a few rows without statistics (hardening finding 5).
 * So a statement given to this function must have one sensible plan whatever the statistics: every table reached by
 * the key of the index meant for it (see the comments on the statements in stores/routing.ts and
 * stores/sessions.ts; test/integration/plan-stability.test.ts checks them on a database grown without ANALYZE).
 * Since every key leads with tenant_id, a probe's `tenant_id = $n` also matches the tenant-only prefix of the
 * table's other indexes, and on tables of a few pages the planner cannot tell them apart; so connections are
 * retired on a lifetime that starts at seconds and grows with the pool's age (db/connection-lifetime.ts), and each
 * new one plans from the tables as they are by then.
 *
 * Planning every execution instead (plan_cache_mode=force_custom_plan) was measured and not taken: it added
 * 0.2–0.5 ms of Postgres time to each routing and allocation statement (1.5 ms to the old routing join) against
 * 0.1–0.2 ms to execute them, and without statistics the custom plans chose the tenant-wide indexes as well.
 * What no statement can guard against is statistics taken while a table was tiny and never refreshed (an ANALYZE
 * or VACUUM of a near-empty database with autovacuum off): plans then favour sequential scans, Postgres's own
 * foreign-key checks included. Autovacuum's ANALYZE, which re-plans, is the remedy there.
 */
export async function preparedQuery<Row>(db: Knex, name: string, text: string, values: unknown[]): Promise<{ rows: Row[]; rowCount: number }> {
  if (!checkedNames.has(name)) assertPlaceholdersInOrder(name, text, values.length);
  const client = db.client as unknown as PoolingClient;
  if (client.config.client === "pg") {
    const connection = await client.acquireConnection();
    try {
      // Sent past knex, so knex's "query" event never sees it: offered to the SQL audit here.
      publishStatement(text);
      const result = await connection.query({ name, text, values });
      return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
    } finally {
      await client.releaseConnection(connection);
    }
  }
  const result = (await db.raw(text.replace(/\$\d+/g, "?"), values as Knex.RawBinding[])) as {
    rows: Row[];
    rowCount?: number;
    affectedRows?: number;
  };
  return { rows: result.rows, rowCount: result.rowCount ?? result.affectedRows ?? result.rows.length };
}
