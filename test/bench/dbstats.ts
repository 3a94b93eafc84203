/**
 * Database work per request, from pg_stat_database of the database the client is connected to (a bench database): transactions (every autocommit statement
 * is one, so this approximates statements per request), rows returned/fetched/inserted/updated, and buffer reads.
 * Postgres flushes these counters about once a second, so per-request figures are approximate over short runs.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";

const FIELDS = ["xact_commit", "xact_rollback", "tup_returned", "tup_fetched", "tup_inserted", "tup_updated", "blks_hit", "blks_read"] as const;
export type DbCounters = Record<(typeof FIELDS)[number], number>;

export async function dbCounters(db: pg.Client): Promise<DbCounters> {
  await db.query("SELECT pg_stat_clear_snapshot()");
  const res = await db.query(`SELECT ${FIELDS.join(", ")} FROM pg_stat_database WHERE datname = current_database()`);
  const row = (res.rows[0] ?? {}) as Record<string, string | number>;
  return Object.fromEntries(FIELDS.map((f) => [f, Number(row[f] ?? 0)])) as DbCounters;
}

/** Per table: sequential scans and the rows they read, index scans and the rows they fetched, rows inserted. */
export type TableCounters = Record<string, { seq_scan: number; seq_tup_read: number; idx_scan: number; idx_tup_fetch: number; n_tup_ins: number }>;

async function tableCounters(db: pg.Client): Promise<TableCounters> {
  const res = await db.query(
    `SELECT relname, seq_scan, seq_tup_read, coalesce(idx_scan, 0) AS idx_scan, coalesce(idx_tup_fetch, 0) AS idx_tup_fetch, n_tup_ins
       FROM pg_stat_user_tables`,
  );
  const out: TableCounters = {};
  for (const r of res.rows as Array<Record<string, string>>) {
    out[r.relname!] = {
      seq_scan: Number(r.seq_scan),
      seq_tup_read: Number(r.seq_tup_read),
      idx_scan: Number(r.idx_scan),
      idx_tup_fetch: Number(r.idx_tup_fetch),
      n_tup_ins: Number(r.n_tup_ins),
    };
  }
  return out;
}

/** Runs `work`, then waits for the counters to be flushed, and returns its result with the database work per request. */
export async function withDbWork<T extends { totals: { sent: number }; allAttempts?: { sent: number } }>(
  db: pg.Client,
  work: () => Promise<T>,
): Promise<T & { dbPerRequest: DbCounters; tablesPerRequest: TableCounters }> {
  // This connection's own queries (counting rows between runs) must not be published inside the window.
  await db.query("SELECT pg_stat_force_next_flush()").catch(() => undefined);
  await db.query("SELECT 1");
  const before = await dbCounters(db);
  const tablesBefore = await tableCounters(db);
  const result = await work();
  await sleep(1_200); // backends report their counters at most once a second
  const after = await dbCounters(db);
  const tablesAfter = await tableCounters(db);
  const sent = Math.max(1, (result.allAttempts ?? result.totals).sent);
  const dbPerRequest = Object.fromEntries(
    FIELDS.map((f) => [f, Math.round(((after[f] - before[f]) / sent) * 100) / 100]),
  ) as DbCounters;
  const r2 = (n: number) => Math.round(n * 100) / 100;
  const tablesPerRequest: TableCounters = {};
  for (const [name, a] of Object.entries(tablesAfter)) {
    const b = tablesBefore[name] ?? { seq_scan: 0, seq_tup_read: 0, idx_scan: 0, idx_tup_fetch: 0, n_tup_ins: 0 };
    const d = {
      seq_scan: r2((a.seq_scan - b.seq_scan) / sent),
      seq_tup_read: r2((a.seq_tup_read - b.seq_tup_read) / sent),
      idx_scan: r2((a.idx_scan - b.idx_scan) / sent),
      idx_tup_fetch: r2((a.idx_tup_fetch - b.idx_tup_fetch) / sent),
      n_tup_ins: r2((a.n_tup_ins - b.n_tup_ins) / sent),
    };
    if (Object.values(d).some((v) => v !== 0)) tablesPerRequest[name] = d;
  }
  return { ...result, dbPerRequest, tablesPerRequest };
}
