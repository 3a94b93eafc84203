import type { Deps } from "../deps.js";
import { expireDueSessions, purgePastRetention, tryAdvisoryXactLock } from "../stores/maintenance.js";
import { DEFAULT_RETENTION_DAYS } from "../domain/tenant-settings.js";

/** One key for the sweeper: whichever replica holds it runs the pass; the others skip. */
export const SWEEPER_LOCK_KEY = 0x6d61736b; // "mask"
const BATCH = 1000;

export interface SweepResult {
  ran: boolean;
  expired: number;
  purged: { sessions: number; calls: number; idempotencyKeys: number; nonces: number };
}

/**
 * Expires sessions whose time is up and releases their DIDs. Routing never depends on this (it checks expires_at
 * itself); the sweeper keeps the index of active rows small and the status column truthful for lists.
 */
export async function expireSessions(deps: Pick<Deps, "db" | "clock">): Promise<number | null> {
  let expired = 0;
  for (;;) {
    const batch = await deps.db.transaction(async (trx) => {
      if (!(await tryAdvisoryXactLock(trx, SWEEPER_LOCK_KEY))) return null;
      return expireDueSessions(trx, deps.clock.now(), BATCH);
    });
    if (batch === null) return expired > 0 ? expired : null;
    expired += batch;
    if (batch < BATCH) return expired;
  }
}

/** Deletes what is past the tenants' retention (privacy by design): ended sessions, old calls, idempotency keys. */
export async function purgeExpiredData(deps: Pick<Deps, "db" | "clock">): Promise<SweepResult["purged"] | null> {
  return deps.db.transaction(async (trx) => {
    if (!(await tryAdvisoryXactLock(trx, SWEEPER_LOCK_KEY))) return null;
    return purgePastRetention(trx, deps.clock.now(), DEFAULT_RETENTION_DAYS, BATCH * 10);
  });
}

/** One full pass: expiry, then the retention purge (the job runs the purge far less often than expiry). */
export async function sweep(deps: Pick<Deps, "db" | "clock">): Promise<SweepResult> {
  const expired = await expireSessions(deps);
  const purged = await purgeExpiredData(deps);
  return {
    ran: expired !== null || purged !== null,
    expired: expired ?? 0,
    purged: purged ?? { sessions: 0, calls: 0, idempotencyKeys: 0, nonces: 0 },
  };
}
