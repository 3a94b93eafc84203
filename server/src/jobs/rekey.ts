/**
 * `keys.rekey`: while previous master keys are configured, re-encrypts what is still under them, a budget of rows
 * per run, in one transaction per run (the rewrites and the walk's progress, kept in this recurring job's own row,
 * commit together). Registered only while there are previous keys (jobs/index.ts); services/key-rotation.ts says how.
 */
import type { Knex } from "knex";
import { REKEY_START, rekeyStep, type RekeyProgress } from "../services/key-rotation.js";
import type { TransactionalJobKind } from "./kinds.js";

export const REKEY_KIND = "keys.rekey";

async function saveProgress(trx: Knex.Transaction, jobId: number, progress: RekeyProgress): Promise<void> {
  await trx("jobs").where({ id: jobId }).update({ payload: JSON.stringify({ progress }) });
}

export const rekeyJob: TransactionalJobKind = {
  kind: REKEY_KIND,
  transactional: true,
  // Between runs while a pass is under way it runs again at once (runAgainAt); after a pass, it rests this long.
  everyMs: () => 60_000,
  timeoutMs: 60_000,
  async run(trx, job, deps) {
    const progress = ((job.payload as { progress?: RekeyProgress }).progress ?? REKEY_START) as RekeyProgress;
    const step = await rekeyStep(deps, trx, progress);
    await saveProgress(trx, job.id, step.progress);
    if (step.rewritten > 0) deps.logger.info({ rewritten: step.rewritten, passEnded: step.passEnded }, "key rotation: values re-encrypted");
    return step.passEnded ? undefined : { runAgainAt: deps.clock.now() };
  },
};
