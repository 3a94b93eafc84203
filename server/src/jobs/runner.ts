/**
 * The job runner: every replica runs one, and any of them may run any job (docs/architecture.md, "Background work").
 *
 * One poll loop claims due jobs (FOR UPDATE SKIP LOCKED, a few at a time, under each queue key's bound) and starts
 * their handlers; its sleep is the runner's only timer, and each wake also renews leases and enforces timeouts.
 *
 * A claim commits on its own: the row says running, leased to this runner until locked_until, one attempt more.
 * A transactional handler then runs in a second transaction that first locks the row (fenced on locked_by) and
 * ends by recording the outcome, so the work and its completion commit together. A crash at any point rolls that
 * transaction back; the lease runs out and another runner claims the job again. Because a claim counts an attempt,
 * a job that kills its runner every time still ends, dead after max_attempts.
 */
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type { Deps } from "../deps.js";
import * as jobs from "../stores/jobs.js";
import type { JobRow } from "../stores/jobs.js";
import { redactPhoneNumbers } from "../logging/redact.js";
import { exponentialBackoff, withJitter } from "./backoff.js";
import { recurringDedupeKey, type JobKind, type JobOutcome, type JobRegistry } from "./kinds.js";
import { claimDueJobs } from "./claim.js";

export interface RunnerOptions {
  /** Written to locked_by. Default: host, pid and a random suffix (unique per runner). */
  runnerId?: string;
  /** How long the loop sleeps when nothing is due. Default 1 s. */
  pollIntervalMs?: number;
  /** Jobs this runner runs at once. Default 4. */
  concurrency?: number;
  /** How long stop() waits for running handlers before abandoning them. Default 10 s. */
  stopGraceMs?: number;
  /** An external handler's lease, renewed every third of it while it runs. Default 30 s. */
  externalLeaseMs?: number;
  /** Jitter source (tests pin it). */
  random?: () => number;
}

export interface JobRunner {
  readonly id: string;
  /** Makes sure each recurring kind has its row, then starts the poll loop. */
  start(): Promise<void>;
  /** Ensures the recurring rows (start() does it; tests that drive runDue() call it themselves). */
  scheduleRecurring(): Promise<void>;
  /** Claims and runs what is due now, round after round, until nothing is due; resolves to the number run. */
  runDue(maxRounds?: number): Promise<number>;
  /** Stops claiming, waits for running handlers (bounded by stopGraceMs), hands back the ones that did not end. */
  stop(): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_ATTEMPTS = 10;
/**
 * A transactional handler holds its row locked, so its lease only has to outlast its timeout (after which the
 * runner rolls it back). The lease is also how long a crashed replica's job waits to be claimed again: keep
 * transactional timeouts short.
 */
const TRANSACTION_LEASE_MARGIN_MS = 5_000;
const MAX_ERROR_CHARS = 500;
const defaultBackoff = exponentialBackoff();

class JobAbort extends Error {
  constructor(readonly why: "timeout" | "lease lost" | "stopping") {
    super(`job abandoned: ${why}`);
  }
}

interface Running {
  job: JobRow;
  kind: JobKind;
  controller: AbortController;
  /** performance.now() instants (the injected clock may stand still in tests; timeouts follow real time). */
  deadline: number;
  renewAt: number;
  done: Promise<void>;
}

/** The error's class and message, scrubbed of anything phone-shaped and bounded: what last_error may hold. */
export function describeJobError(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : `non-error thrown: ${String(err)}`;
  return redactPhoneNumbers(text).slice(0, MAX_ERROR_CHARS);
}

function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  work.catch(() => undefined); // a handler abandoned mid-way may still reject later; nobody waits for it then
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

export function createJobRunner(deps: Deps, registry: JobRegistry, options: RunnerOptions = {}): JobRunner {
  const id = options.runnerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
  const pollIntervalMs = options.pollIntervalMs ?? 1_000;
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const stopGraceMs = options.stopGraceMs ?? 10_000;
  const externalLeaseMs = options.externalLeaseMs ?? 30_000;
  const random = options.random ?? Math.random;
  const kindNames = [...registry.kinds.keys()];
  const log = deps.logger.child({ runner: id });
  const running = new Map<number, Running>();

  let stopping = false;
  let loop: Promise<void> | null = null;
  let wake: (() => void) | null = null;
  /** A wake that came while the loop was busy: its next sleep is skipped. */
  let wakeRequested = false;
  /** The last claim filled every free slot: more may be due, so a finished job wakes the loop at once. */
  let backlog = false;

  const timeoutOf = (kind: JobKind) => kind.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const leaseOf = (kind: JobKind) => (kind.transactional ? timeoutOf(kind) + TRANSACTION_LEASE_MARGIN_MS : externalLeaseMs);
  const after = (ms: number) => new Date(deps.clock.now().getTime() + ms);

  async function claim(): Promise<JobRow[]> {
    const slots = concurrency - running.size;
    if (slots <= 0 || kindNames.length === 0) return [];
    const { claimed, abandoned } = await claimDueJobs(deps.db, registry, { runnerId: id, now: deps.clock.now(), slots, leaseOf });
    for (const jobId of abandoned) log.warn({ jobId }, "job dead: its last attempt's runner never finished it");
    return claimed;
  }

  async function runTransactional(job: JobRow, kind: JobKind & { transactional: true }, signal: AbortSignal): Promise<JobOutcome | void | "lost"> {
    const trx = await deps.db.transaction();
    try {
      if (!(await jobs.holdClaimedJob(trx, job.id, id))) {
        await trx.rollback();
        return "lost";
      }
      const outcome = await abortable(kind.run(trx, job, deps), signal);
      await finish(trx, job, kind, outcome);
      await trx.commit();
      return outcome;
    } catch (err) {
      await trx.rollback().catch(() => undefined);
      throw err;
    }
  }

  /** Records success (or the next run); on a transactional job, inside its transaction. False: the lease was lost. */
  async function finish(db: Deps["db"], job: JobRow, kind: JobKind, outcome: JobOutcome | void): Promise<boolean> {
    const now = deps.clock.now();
    const next = outcome?.runAgainAt ?? (kind.everyMs ? new Date(now.getTime() + kind.everyMs(deps.config)) : null);
    return next ? jobs.markRescheduled(db, job.id, id, next, now) : jobs.markSucceeded(db, job.id, id, now);
  }

  async function settleFailure(job: JobRow, kind: JobKind, err: unknown): Promise<void> {
    const now = deps.clock.now();
    if (err instanceof JobAbort && err.why === "stopping") {
      await jobs.releaseClaim(deps.db, job.id, id, now);
      log.info({ jobId: job.id, kind: job.kind }, "job handed back at shutdown");
      return;
    }
    const error = describeJobError(err);
    const retryIn = withJitter((kind.retryDelayMs ?? defaultBackoff)(job.attempts), random);
    if (kind.everyMs) {
      // A recurring job never dies: it retries, at the latest by its next regular run.
      await jobs.markFailed(deps.db, job.id, id, after(Math.min(retryIn, kind.everyMs(deps.config))), now, error);
      log.warn({ jobId: job.id, kind: job.kind, attempts: job.attempts, err }, "recurring job failed; retrying");
    } else if (job.attempts >= job.max_attempts) {
      await jobs.markDead(deps.db, job.id, id, now, error);
      log.error({ jobId: job.id, kind: job.kind, attempts: job.attempts, err }, "job dead after its last attempt");
    } else {
      await jobs.markFailed(deps.db, job.id, id, after(retryIn), now, error);
      log.warn({ jobId: job.id, kind: job.kind, attempts: job.attempts, retryInMs: retryIn, err }, "job failed; retry scheduled");
    }
  }

  async function execute(entry: Running): Promise<void> {
    const { job, kind, controller } = entry;
    try {
      let recorded: boolean;
      if (kind.transactional) {
        const result = await runTransactional(job, kind, controller.signal);
        recorded = result !== "lost";
      } else {
        const outcome = await abortable(kind.run(job, deps, controller.signal), controller.signal);
        recorded = await finish(deps.db, job, kind, outcome);
      }
      if (!recorded) log.warn({ jobId: job.id, kind: job.kind }, "job's lease was taken over before it finished; its new runner owns it");
    } catch (err) {
      await settleFailure(job, kind, err).catch((e: unknown) =>
        // The row still says running: once its lease runs out another runner claims it again.
        log.error({ jobId: job.id, kind: job.kind, err: e }, "job outcome not recorded; it runs again after its lease"),
      );
    }
  }

  function begin(job: JobRow): Running {
    const kind = registry.kinds.get(job.kind)!;
    const startedAt = performance.now();
    const entry: Running = {
      job,
      kind,
      controller: new AbortController(),
      deadline: startedAt + timeoutOf(kind),
      renewAt: startedAt + leaseOf(kind) / 3,
      done: Promise.resolve(),
    };
    entry.done = execute(entry).finally(() => {
      running.delete(job.id);
      if (backlog) wakeLoop();
    });
    running.set(job.id, entry);
    return entry;
  }

  /** Timeouts, and lease renewals of external handlers (a transactional handler's row lock already guards it). */
  async function tendRunning(): Promise<void> {
    const at = performance.now();
    const renew: Running[] = [];
    for (const entry of running.values()) {
      if (entry.controller.signal.aborted) continue;
      if (at >= entry.deadline) entry.controller.abort(new JobAbort("timeout"));
      else if (!entry.kind.transactional && at >= entry.renewAt) renew.push(entry);
    }
    if (renew.length === 0) return;
    const held = await jobs.renewLeases(deps.db, renew.map((e) => e.job.id), id, after(externalLeaseMs), deps.clock.now());
    for (const entry of renew) {
      if (held.has(entry.job.id)) entry.renewAt = at + externalLeaseMs / 3;
      else entry.controller.abort(new JobAbort("lease lost"));
    }
  }

  async function tick(): Promise<void> {
    await tendRunning();
    if (stopping) return;
    const slots = concurrency - running.size;
    const claimed = await claim();
    backlog = slots > 0 && claimed.length === slots;
    for (const job of claimed) begin(job);
  }

  function wakeLoop() {
    wakeRequested = true;
    wake?.();
  }

  async function pollLoop(): Promise<void> {
    let failing = false; // one warning per outage, not one a poll
    while (!stopping) {
      try {
        await tick();
        if (failing) log.info("job runner: polling again");
        failing = false;
      } catch (err) {
        if (failing) log.debug({ err }, "job runner: poll failed");
        else log.warn({ err }, "job runner: poll failed; retrying every poll interval");
        failing = true;
      }
      if (stopping) break;
      if (wakeRequested) {
        wakeRequested = false;
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollIntervalMs);
        timer.unref();
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = null;
      wakeRequested = false;
    }
  }

  async function scheduleRecurring(): Promise<void> {
    for (const kind of registry.kinds.values()) {
      if (!kind.everyMs) continue;
      await jobs.enqueueJob(deps.db, {
        kind: kind.kind,
        dedupeKey: recurringDedupeKey(kind.kind),
        runAt: deps.clock.now(),
        maxAttempts: kind.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      });
    }
  }

  return {
    id,
    async start() {
      if (loop) return;
      await scheduleRecurring();
      loop = pollLoop();
      log.info({ kinds: kindNames, concurrency }, "job runner started");
    },
    scheduleRecurring,
    async runDue(maxRounds = 100) {
      let ran = 0;
      for (let round = 0; round < maxRounds; round++) {
        await tendRunning();
        const claimed = await claim();
        if (claimed.length === 0 && running.size === 0) break;
        ran += claimed.length;
        const started = claimed.map(begin);
        await Promise.all(started.length > 0 ? started.map((e) => e.done) : [...running.values()].map((e) => e.done));
      }
      return ran;
    },
    async stop() {
      stopping = true;
      wakeLoop();
      await loop;
      const all = () => Promise.all([...running.values()].map((e) => e.done));
      let graceTimer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<"grace over">((resolve) => {
        graceTimer = setTimeout(() => resolve("grace over"), stopGraceMs);
        graceTimer.unref();
      });
      const ended = await Promise.race([all().then(() => "ended" as const), graceOver]);
      clearTimeout(graceTimer);
      if (ended === "grace over") {
        log.warn({ jobs: running.size }, "job runner: handlers still running at the end of the grace; handing them back");
        for (const entry of running.values()) entry.controller.abort(new JobAbort("stopping"));
        await all();
      }
    },
  };
}
