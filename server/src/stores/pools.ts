import type { Knex } from "knex";
import { sessionLiveSql } from "./session-ended.js";

export interface PoolFiguresRow {
  pool: string;
  numbers: number;
  active_sessions: number;
  busiest: number;
  pin_sessions: number;
}

/** One pool by name, or a page of pools by name (`after` excluded, `limit` + 1 rows fetched). */
export type PoolSelection = { pool: string } | { page: { limit: number; after?: string } };

/**
 * Sizing figures of a tenant's pools (one pool, or a page of those that hold a number, active or released),
 * aggregated in one statement. Open means status 'open' and expires_at > now, whatever the sweeper has got round to.
 *
 * - numbers: active DIDs of the pool.
 * - active_sessions: open number-routed sessions drawing on the pool;
 * - busiest: the most active number-routed participant rows, in open sessions, on the pool's DIDs, that any one
 *   person (number_bidx) has; reached from the pool's DIDs through the partial index of active rows;
 * - pin_sessions: open PIN sessions on the pool (they share DIDs, so they are sized by PIN space, not by people).
 *
 * The pools are chosen first, so the session and participant aggregates only touch the pools being returned.
 */
export async function poolFigures(db: Knex, tenantId: string, now: Date, which: PoolSelection): Promise<PoolFiguresRow[]> {
  const choose =
    "pool" in which
      ? { sql: "AND n.pool = :pool", limit: "", params: { pool: which.pool } }
      : {
          sql: which.page.after === undefined ? "" : "AND n.pool > :after",
          limit: "LIMIT :limit",
          params: { limit: which.page.limit + 1, ...(which.page.after === undefined ? {} : { after: which.page.after }) },
        };
  const result = await db.raw<{ rows: PoolFiguresRow[] }>(
    `WITH pools AS (
       SELECT n.pool, (count(*) FILTER (WHERE n.status = 'active'))::int AS numbers
         FROM numbers n
        WHERE n.tenant_id = :tenantId ${choose.sql}
        GROUP BY n.pool
        ORDER BY n.pool
        ${choose.limit}
     ),
     open_sessions AS (
       SELECT s.pool, (count(*) FILTER (WHERE s.routing = 'number'))::int AS active_sessions,
              (count(*) FILTER (WHERE s.routing = 'pin'))::int AS pin_sessions
         FROM sessions s
        WHERE s.tenant_id = :tenantId AND ${sessionLiveSql("s", ":now")}
          AND s.pool IN (SELECT pool FROM pools)
        GROUP BY s.pool
     ),
     per_person AS (
       SELECT n.pool, p.number_bidx, count(*)::int AS sessions
         FROM numbers n
         JOIN participants p ON p.tenant_id = n.tenant_id AND p.proxy_number_id = n.id AND p.active AND p.pin_hash IS NULL
         JOIN sessions s ON s.tenant_id = p.tenant_id AND s.id = p.session_id
        WHERE n.tenant_id = :tenantId AND n.pool IN (SELECT pool FROM pools)
          AND ${sessionLiveSql("s", ":now")}
        GROUP BY n.pool, p.number_bidx
     ),
     busiest AS (
       SELECT pool, max(sessions)::int AS busiest FROM per_person GROUP BY pool
     )
     SELECT pools.pool, pools.numbers,
            coalesce(open_sessions.active_sessions, 0)::int AS active_sessions,
            coalesce(open_sessions.pin_sessions, 0)::int AS pin_sessions,
            coalesce(busiest.busiest, 0)::int AS busiest
       FROM pools
       LEFT JOIN open_sessions ON open_sessions.pool = pools.pool
       LEFT JOIN busiest ON busiest.pool = pools.pool
      ORDER BY pools.pool`,
    { tenantId, now, ...choose.params },
  );
  return result.rows;
}
