/**
 * The privacy operations' jobs (docs/privacy.md): an erasure and an export each run in one transaction of their
 * own job (transactional: the work and its completion commit together, exactly once), on any replica. An erasure
 * whose recordings are still being deleted at the carrier runs again later to complete.
 */
import { ERASE_KIND, ERASURE_RECHECK_MS, runErasure } from "../services/erasures.js";
import { EXPORT_KIND, runExport } from "../services/exports.js";
import type { TransactionalJobKind } from "./kinds.js";

export const eraseJob: TransactionalJobKind = {
  kind: ERASE_KIND,
  transactional: true,
  // A person with thousands of sessions and events: the events are found by a scan of the tenant's.
  timeoutMs: 120_000,
  async run(trx, job, deps) {
    const waiting = await runErasure(deps, trx, job.tenant_id!, job);
    if (waiting) return { runAgainAt: new Date(deps.clock.now().getTime() + ERASURE_RECHECK_MS) };
    return undefined;
  },
};

export const exportJob: TransactionalJobKind = {
  kind: EXPORT_KIND,
  transactional: true,
  timeoutMs: 60_000,
  async run(trx, job, deps) {
    await runExport(deps, trx, job.tenant_id!, job.payload);
  },
};
