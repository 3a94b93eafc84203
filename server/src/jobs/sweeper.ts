import type { Deps } from "../deps.js";
import { expireDueSessions, purgePastRetention, tryAdvisoryXactLock } from "../stores/maintenance.js";

/** One key for the sweeper: whichever replica holds it runs the pass; the others skip. */
export const SWEEPER_LOCK_KEY = 0x6d61736b; // "mask"
const BATCH = 1000;
export const DEFAULT_RETENTION_DAYS = 90;

export interface SweepResult {
  ran: boolean;
  expired: number;
  purged: { sessions: number; calls: number; idempotencyKeys: number };
}

/**
 * Expires sessions whose time is up and releases their DIDs, then purges data past retention. Routing never
 * depends on this (it checks expires_at itself); the sweeper keeps the index of active rows small and the
 * status column truthful for lists.
 */
export async function sweep(deps: Pick<Deps, "db" | "clock">): Promise<SweepResult> {
  const result: SweepResult = { ran: false, expired: 0, purged: { sessions: 0, calls: 0, idempotencyKeys: 0 } };
  for (;;) {
    const batch = await deps.db.transaction(async (trx) => {
      if (!(await tryAdvisoryXactLock(trx, SWEEPER_LOCK_KEY))) return null;
      return expireDueSessions(trx, deps.clock.now(), BATCH);
    });
    if (batch === null) return result;
    result.ran = true;
    result.expired += batch;
    if (batch < BATCH) break;
  }
  const purged = await deps.db.transaction(async (trx) => {
    if (!(await tryAdvisoryXactLock(trx, SWEEPER_LOCK_KEY))) return null;
    return purgePastRetention(trx, deps.clock.now(), DEFAULT_RETENTION_DAYS, BATCH * 10);
  });
  if (purged) result.purged = purged;
  return result;
}
