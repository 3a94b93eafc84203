/**
 * One claim: in a single transaction, the due rows of the runner's kinds are locked (SKIP LOCKED), each queue
 * key's bound is checked, and the rows taken are leased to the runner. Committing it is what makes them this
 * runner's; until then no other runner can see them claimed or take them.
 */
import type { Knex } from "knex";
import * as jobs from "../stores/jobs.js";
import type { JobRow } from "../stores/jobs.js";
import { maxAttemptsOf, type JobKind, type JobRegistry } from "./kinds.js";

/** Claims look past rows a full queue key cannot take, up to this many per free slot (at most a key's bound each). */
const CANDIDATES_PER_SLOT = 4;

export interface ClaimRequest {
  runnerId: string;
  now: Date;
  slots: number;
  /** How long a claim of this kind holds before another runner may take the job. */
  leaseOf(kind: JobKind): number;
}

export async function claimDueJobs(
  db: Knex,
  registry: JobRegistry,
  request: ClaimRequest,
): Promise<{ claimed: JobRow[]; abandoned: number[] }> {
  const { runnerId, now, slots } = request;
  const perKey = Math.max(1, ...[...registry.kinds.values()].map((k) => k.concurrencyPerKey ?? 1));
  return db.transaction(async (trx) => {
    const candidates = await jobs.lockClaimCandidates(trx, [...registry.kinds.keys()], now, slots * CANDIDATES_PER_SLOT, perKey);
    const abandoned: number[] = [];
    const taken = new Map<number, JobKind>();
    const allowance = new Map<string, number>();
    for (const c of candidates) {
      if (taken.size >= slots) break;
      const kind = registry.kinds.get(c.kind)!;
      // Its runner died on the last attempt (a claim counts one): running it again would exceed max_attempts.
      if (c.status === "running" && c.attempts >= maxAttemptsOf(kind, c) && !kind.everyMs) {
        abandoned.push(c.id);
        continue;
      }
      if (c.queue_key !== null) {
        let left = allowance.get(c.queue_key);
        if (left === undefined) {
          // The key's lock makes "count, then claim" atomic across runners; a key another runner is claiming
          // under is skipped this round rather than waited for.
          left = (await jobs.tryLockQueueKey(trx, c.queue_key))
            ? (kind.concurrencyPerKey ?? 1) - (await jobs.countLeasedUnderKey(trx, c.queue_key, now))
            : 0;
        }
        allowance.set(c.queue_key, left - 1);
        if (left <= 0) continue;
      }
      taken.set(c.id, kind);
    }
    await jobs.markAbandonedDead(trx, abandoned, now, "lease ran out on the last attempt: its runner stopped or stalled");
    // One update per lease length (a kind's lease follows its timeout).
    const byLease = new Map<number, number[]>();
    for (const [jobId, kind] of taken) byLease.set(request.leaseOf(kind), [...(byLease.get(request.leaseOf(kind)) ?? []), jobId]);
    const claimed: JobRow[] = [];
    for (const [leaseMs, ids] of byLease) {
      claimed.push(...(await jobs.markClaimed(trx, ids, runnerId, new Date(now.getTime() + leaseMs), now)));
    }
    return { claimed, abandoned };
  });
}
