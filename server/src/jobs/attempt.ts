/**
 * One attempt of a claimed job: its handler, cut short by its AbortSignal (timeout, lost lease, shutdown), and the
 * recording of how it ended. Every write is fenced on the lease: a runner whose lease was taken over changes nothing,
 * and says so rather than claiming an outcome it did not record.
 */
import type { Logger } from "pino";
import type { Deps } from "../deps.js";
import * as jobs from "../stores/jobs.js";
import type { JobRow } from "../stores/jobs.js";
import { redactPhoneNumbers } from "../logging/redact.js";
import { abortable, JobAbort } from "./abort.js";
import { exponentialBackoff, withJitter } from "./backoff.js";
import { inJobTransaction, JobTransactionStuck } from "./job-transaction.js";
import { maxAttemptsOf, type JobKind, type JobOutcome } from "./kinds.js";

const MAX_ERROR_CHARS = 500;

/**
 * Thrown by a handler that knows when its retry is due (a fixed schedule, a receiver's Retry-After): the retry runs
 * at `at`, unjittered, instead of after the kind's backoff. On the last attempt the job is dead as with any error.
 */
export class RetryAt extends Error {
  override name = "RetryAt";
  constructor(
    readonly at: Date,
    message: string,
  ) {
    super(message);
  }
}
const defaultBackoff = exponentialBackoff();

export interface Attempt {
  job: JobRow;
  kind: JobKind;
  controller: AbortController;
  /** performance.now() instant of its timeout, when the runner aborts it (timeouts follow real time, not the injected clock). */
  deadline: number;
}

export interface AttemptContext {
  deps: Deps;
  runnerId: string;
  log: Logger;
  random: () => number;
}

/** The error's class and message, scrubbed of anything phone-shaped and bounded: what last_error may hold. */
export function describeJobError(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : `non-error thrown: ${String(err)}`;
  return redactPhoneNumbers(text).slice(0, MAX_ERROR_CHARS);
}

const LEASE_TAKEN = "job's lease was taken over before its outcome was recorded; its new runner owns it";

export async function runAttempt(ctx: AttemptContext, attempt: Attempt): Promise<void> {
  const { deps, log } = ctx;
  const { job, kind, controller } = attempt;
  try {
    let recorded: boolean;
    if (kind.transactional) {
      const timeLeft = () => attempt.deadline - performance.now();
      const result = await inJobTransaction(deps, job, ctx.runnerId, timeLeft, controller.signal, async (trx) => {
        const outcome = await kind.run(trx, job, deps);
        return finish(ctx, trx, attempt, outcome);
      });
      recorded = result === true;
    } else {
      const outcome = await abortable(kind.run(job, deps, controller.signal), controller.signal);
      recorded = await finish(ctx, deps.db, attempt, outcome);
    }
    if (!recorded) log.warn({ jobId: job.id, kind: job.kind }, LEASE_TAKEN);
  } catch (err) {
    if (err instanceof JobTransactionStuck) {
      log.error({ jobId: job.id, kind: job.kind }, "job's transaction would not end; it runs again once its connection is gone");
      return;
    }
    await settleFailure(ctx, attempt, err).catch((e: unknown) =>
      // The row still says running: once its lease runs out another runner claims it again.
      log.error({ jobId: job.id, kind: job.kind, err: e }, "job outcome not recorded; it runs again after its lease"),
    );
  }
}

/** Records success (or the next run); on a transactional job, inside its transaction. False: the lease was lost. */
async function finish(ctx: AttemptContext, db: Deps["db"], { job, kind }: Attempt, outcome: JobOutcome | void): Promise<boolean> {
  const { deps, runnerId } = ctx;
  const now = deps.clock.now();
  const next = outcome?.runAgainAt ?? (kind.everyMs ? new Date(now.getTime() + kind.everyMs(deps.config)) : null);
  return next ? jobs.markRescheduled(db, job.id, runnerId, next, now) : jobs.markSucceeded(db, job.id, runnerId, now);
}

async function settleFailure(ctx: AttemptContext, { job, kind }: Attempt, err: unknown): Promise<void> {
  const { deps, runnerId, log } = ctx;
  const now = deps.clock.now();
  const fields = { jobId: job.id, kind: job.kind, attempts: job.attempts };
  if (err instanceof JobAbort && err.why === "stopping") {
    if (await jobs.releaseClaim(deps.db, job.id, runnerId, now)) log.info(fields, "job handed back at shutdown");
    else log.warn(fields, LEASE_TAKEN);
    return;
  }
  const error = describeJobError(err);
  const retryIn = withJitter((kind.retryDelayMs ?? defaultBackoff)(job.attempts), ctx.random);
  const at = (ms: number) => new Date(now.getTime() + ms);
  let recorded: boolean;
  const dead = !kind.everyMs && job.attempts >= maxAttemptsOf(kind, job);
  if (kind.everyMs) {
    // A recurring job never dies: it retries, at the latest by its next regular run.
    recorded = await jobs.markFailed(deps.db, job.id, runnerId, at(Math.min(retryIn, kind.everyMs(deps.config))), now, error);
  } else if (dead) {
    recorded = await jobs.markDead(deps.db, job.id, runnerId, now, error);
  } else {
    const retryAt = err instanceof RetryAt ? err.at : at(retryIn);
    recorded = await jobs.markFailed(deps.db, job.id, runnerId, retryAt, now, error);
  }
  if (!recorded) log.warn({ ...fields, err }, LEASE_TAKEN);
  else if (dead) log.error({ ...fields, err }, "job dead after its last attempt");
  else log.warn({ ...fields, retryInMs: retryIn, err }, kind.everyMs ? "recurring job failed; retrying" : "job failed; retry scheduled");
}
