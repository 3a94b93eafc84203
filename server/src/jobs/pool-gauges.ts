/**
 * `metrics.pools`: keeps the pool gauges of GET /metrics (services/metrics.ts, poolGaugeStep), a batch of tenants
 * per run in one transaction (the figures and the walk's progress, kept in this recurring job's own row, commit
 * together). A pass runs its batches back to back, then rests a minute.
 */
import type { Knex } from "knex";
import { POOL_GAUGE_WALK_START, poolGaugeStep, type PoolGaugeWalk } from "../services/metrics.js";
import type { TransactionalJobKind } from "./kinds.js";

export const POOL_GAUGES_KIND = "metrics.pools";
export const POOL_GAUGES_EVERY_MS = 60_000;

async function saveWalk(trx: Knex.Transaction, jobId: number, walk: PoolGaugeWalk): Promise<void> {
  await trx("jobs").where({ id: jobId }).update({ payload: JSON.stringify({ walk }) });
}

export const poolGaugesJob: TransactionalJobKind = {
  kind: POOL_GAUGES_KIND,
  transactional: true,
  everyMs: () => POOL_GAUGES_EVERY_MS,
  timeoutMs: 60_000,
  async run(trx, job, deps) {
    const walk = (job.payload as { walk?: PoolGaugeWalk }).walk ?? POOL_GAUGE_WALK_START;
    const step = await poolGaugeStep(deps, trx, walk);
    await saveWalk(trx, job.id, step.walk);
    return step.passEnded ? undefined : { runAgainAt: deps.clock.now() };
  },
};
