import type { Knex } from "knex";
import type { Deps } from "../deps.js";
import { notFound } from "../errors.js";
import * as store from "../stores/pools.js";
import type { PoolFiguresRow } from "../stores/pools.js";
import type { Schemas } from "./shapes.js";
import type { PageRequest } from "../domain/pagination.js";
import { pinSessionsPerDid } from "../domain/pin.js";
import { effectiveSettings } from "../domain/tenant-settings.js";
import { findTenant } from "../stores/tenants.js";

/**
 * A pool needs as many DIDs as the most sessions any one person is in at once (docs/architecture.md, "The
 * allocation invariant"), so headroom and utilisation are measured against the busiest person, not the session count.
 */
export function toPool(row: PoolFiguresRow, pinLength: number): Schemas["Pool"] {
  const numbers = Number(row.numbers);
  const busiest = Number(row.busiest);
  const pinSessions = Number(row.pin_sessions);
  // PIN sessions share DIDs: each DID carries as many as its PIN space allows (two PINs a session).
  const pinCapacity = numbers * pinSessionsPerDid(pinLength);
  return {
    pool: row.pool,
    numbers,
    activeSessions: Number(row.active_sessions),
    busiestParticipantSessions: busiest,
    headroom: Math.max(0, numbers - busiest),
    utilisation: numbers > 0 ? busiest / numbers : 0,
    pinSessions,
    pinCapacity,
    pinHeadroom: Math.max(0, pinCapacity - pinSessions),
  };
}

async function pinLengthOf(deps: Pick<Deps, "db">, tenantId: string): Promise<number> {
  return effectiveSettings((await findTenant(deps.db, tenantId))?.settings).pinLength;
}

/** 404 when the tenant has never had a number (active or released) in the pool. */
export async function getPool(deps: Pick<Deps, "db" | "clock">, tenantId: string, pool: string): Promise<Schemas["Pool"]> {
  const [row] = await store.poolFigures(deps.db, tenantId, deps.clock.now(), { pool });
  if (!row) throw notFound("Pool");
  return toPool(row, await pinLengthOf(deps, tenantId));
}

/** A page of the pools that hold at least one number (active or released), by name; limit + 1 rows, shaped. */
export async function listPools(deps: Pick<Deps, "db" | "clock">, tenantId: string, page: PageRequest) {
  const rows = await store.poolFigures(deps.db, tenantId, deps.clock.now(), { page });
  const pinLength = await pinLengthOf(deps, tenantId);
  return { rows, shape: (row: PoolFiguresRow) => toPool(row, pinLength) };
}

/**
 * Every pool of the tenant, shaped, read with `db` (the pool gauges' job passes its transaction: the embedded
 * database has one connection). At most the first 1,000 pools by name.
 */
export async function poolsOfTenant(db: Knex, tenantId: string, now: Date): Promise<Schemas["Pool"][]> {
  const rows = await store.poolFigures(db, tenantId, now, { page: { limit: 1_000 } });
  const pinLength = effectiveSettings((await findTenant(db, tenantId))?.settings).pinLength;
  return rows.slice(0, 1_000).map((row) => toPool(row, pinLength));
}
