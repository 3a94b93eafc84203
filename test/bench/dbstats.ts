/**
 * Database work per request, from pg_stat_database of the bench database: transactions (every autocommit statement
 * is one, so this approximates statements per request), rows returned/fetched/inserted/updated, and buffer reads.
 * Postgres flushes these counters about once a second, so per-request figures are approximate over short runs.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";
import { BENCH_DB } from "./db.js";

const FIELDS = ["xact_commit", "xact_rollback", "tup_returned", "tup_fetched", "tup_inserted", "tup_updated", "blks_hit", "blks_read"] as const;
export type DbCounters = Record<(typeof FIELDS)[number], number>;

export async function dbCounters(db: pg.Client): Promise<DbCounters> {
  await db.query("SELECT pg_stat_clear_snapshot()");
  const res = await db.query(`SELECT ${FIELDS.join(", ")} FROM pg_stat_database WHERE datname = $1`, [BENCH_DB]);
  const row = (res.rows[0] ?? {}) as Record<string, string | number>;
  return Object.fromEntries(FIELDS.map((f) => [f, Number(row[f] ?? 0)])) as DbCounters;
}

/** Runs `work`, then waits for the counters to be flushed, and returns its result with the database work per request. */
export async function withDbWork<T extends { totals: { sent: number }; allAttempts?: { sent: number } }>(
  db: pg.Client,
  work: () => Promise<T>,
): Promise<T & { dbPerRequest: DbCounters }> {
  const before = await dbCounters(db);
  const result = await work();
  await sleep(1_200); // backends report their counters at most once a second
  const after = await dbCounters(db);
  const sent = Math.max(1, (result.allAttempts ?? result.totals).sent);
  const dbPerRequest = Object.fromEntries(
    FIELDS.map((f) => [f, Math.round(((after[f] - before[f]) / sent) * 100) / 100]),
  ) as DbCounters;
  return { ...result, dbPerRequest };
}
