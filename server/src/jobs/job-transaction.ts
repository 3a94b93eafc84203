/**
 * A transactional handler's transaction. It first locks the job's row (fenced on the lease), then tells Postgres how
 * long the job has left (statement_timeout and lock_timeout, for this transaction only): a statement still running
 * at the job's timeout is cancelled by the server itself, and the row is free for its retry at once.
 *
 * A handler abandoned otherwise (the runner stopping, or statements that each stay under the bound but together
 * overrun) is ended from outside. Its rollback waits behind the statement it is running, so when the rollback has
 * not finished shortly the statement is cancelled (pg_cancel_backend), then, failing that, the backend terminated:
 * only once the transaction has ended is the row unlocked, claimable again, and the connection back in the pool.
 *
 * Embedded PGlite accepts the settings but enforces neither, and has no second connection to cancel from: there a
 * handler stuck inside one statement holds the database until the statement returns.
 */
import type { Knex } from "knex";
import type { Deps } from "../deps.js";
import * as jobs from "../stores/jobs.js";
import type { JobBackend, JobRow } from "../stores/jobs.js";
import { abortable, settlesWithin } from "./abort.js";

/** How long an abandoned transaction's rollback may wait for its statement before the statement is cancelled. */
const CANCEL_AFTER_MS = 500;
/** How long after the cancel (and again after the terminate) before the next step. */
const ESCALATE_AFTER_MS = 2_000;

/** The transaction could not be ended: its row stays locked until its connection dies. */
export class JobTransactionStuck extends Error {
  constructor(readonly jobId: number) {
    super(`job ${jobId}: its transaction did not end after its backend was terminated`);
  }
}

/**
 * Runs `work` in the job's transaction and commits; "lost" when the lease was taken over first. `timeLeftMs` is read
 * once the row is held. Throws what the work threw (or the signal's reason) once the transaction has rolled back.
 */
export async function inJobTransaction<T>(
  deps: Deps,
  job: JobRow,
  runnerId: string,
  timeLeftMs: () => number,
  signal: AbortSignal,
  work: (trx: Knex.Transaction) => Promise<T>,
): Promise<T | "lost"> {
  const trx = await deps.db.transaction();
  let backend: JobBackend | undefined;
  try {
    if (!(await jobs.holdClaimedJob(trx, job.id, runnerId))) {
      await trx.rollback();
      return "lost";
    }
    backend = await jobs.boundJobTransaction(trx, timeLeftMs());
    const result = await abortable(work(trx), signal);
    await trx.commit();
    return result;
  } catch (err) {
    const ended = trx.rollback().catch(() => undefined);
    // A handler that threw has no statement running; only an abandoned one may.
    const outside = signal.aborted && backend !== undefined && deps.config.databaseUrl ? backend : undefined;
    if (!outside) await ended;
    else if (!(await endFromOutside(deps.db, ended, outside))) throw new JobTransactionStuck(job.id);
    throw err;
  }
}

async function endFromOutside(db: Knex, ended: Promise<unknown>, backend: JobBackend): Promise<boolean> {
  if (await settlesWithin(ended, CANCEL_AFTER_MS)) return true;
  // The signal goes over another pool connection; bounded, in case the pool has none to give.
  await settlesWithin(jobs.signalBackend(db, "cancel", backend), ESCALATE_AFTER_MS);
  if (await settlesWithin(ended, ESCALATE_AFTER_MS)) return true;
  await settlesWithin(jobs.signalBackend(db, "terminate", backend), ESCALATE_AFTER_MS);
  return settlesWithin(ended, ESCALATE_AFTER_MS);
}
