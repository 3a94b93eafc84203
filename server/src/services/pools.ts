import type { Deps } from "../deps.js";
import { notFound } from "../errors.js";
import * as store from "../stores/pools.js";
import type { PoolFiguresRow } from "../stores/pools.js";
import type { Schemas } from "./shapes.js";
import type { PageRequest } from "../domain/pagination.js";

/**
 * A pool needs as many DIDs as the most sessions any one person is in at once (docs/architecture.md, "The
 * allocation invariant"), so headroom and utilisation are measured against the busiest person, not the session count.
 */
export function toPool(row: PoolFiguresRow): Schemas["Pool"] {
  const numbers = Number(row.numbers);
  const busiest = Number(row.busiest);
  return {
    pool: row.pool,
    numbers,
    activeSessions: Number(row.active_sessions),
    busiestParticipantSessions: busiest,
    headroom: Math.max(0, numbers - busiest),
    utilisation: numbers > 0 ? busiest / numbers : 0,
  };
}

/** 404 when the tenant has never had a number (active or released) in the pool. */
export async function getPool(deps: Pick<Deps, "db" | "clock">, tenantId: string, pool: string): Promise<Schemas["Pool"]> {
  const [row] = await store.poolFigures(deps.db, tenantId, deps.clock.now(), { pool });
  if (!row) throw notFound("Pool");
  return toPool(row);
}

/** A page of the pools that hold at least one number (active or released), by name; limit + 1 rows. */
export async function listPools(deps: Pick<Deps, "db" | "clock">, tenantId: string, page: PageRequest): Promise<PoolFiguresRow[]> {
  return store.poolFigures(deps.db, tenantId, deps.clock.now(), { page });
}
