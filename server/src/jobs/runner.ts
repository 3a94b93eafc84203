/**
 * The job runner: every replica runs one, and any of them may run any job (docs/architecture.md, "Background work").
 *
 * One poll loop claims due jobs (FOR UPDATE SKIP LOCKED, a few at a time, under each queue key's bound) and starts
 * their handlers; each wake also renews external handlers' leases, through the stop grace as well. A handler's
 * timeout is a timer of its own, so it fires on time even while the loop waits on the database (on embedded PGlite,
 * behind the very transaction that overran).
 *
 * A claim commits on its own: the row says running, leased to this runner until locked_until, one attempt more.
 * A transactional handler then runs in a second transaction that first locks the row (fenced on locked_by) and
 * ends by recording the outcome, so the work and its completion commit together (jobs/job-transaction.ts). A crash
 * at any point rolls that transaction back; the lease runs out and another runner claims the job again. Because a
 * claim counts an attempt, a job that kills its runner every time still ends, dead after its max attempts.
 */
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type { Deps } from "../deps.js";
import type { ForegroundLoad } from "../time/foreground-load.js";
import * as jobs from "../stores/jobs.js";
import type { JobRow } from "../stores/jobs.js";
import { JobAbort, settlesWithin } from "./abort.js";
import { runAttempt, type Attempt, type AttemptContext } from "./attempt.js";
import { recurringDedupeKey, type JobKind, type JobRegistry } from "./kinds.js";
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
  /**
   * Foreground work this runner's jobs give way to: it claims only the slots the load leaves, and while the load
   * holds it back it claims on its poll rather than as each job finishes. For work that can wait (deliveries).
   */
  yieldTo?: Pick<ForegroundLoad, "backgroundSlots" | "yielding">;
}

export interface JobRunner {
  readonly id: string;
  /** The longest stop() takes: its grace, then the time abandoned handlers get to hand their jobs back. */
  readonly stopBoundMs: number;
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
/**
 * A transactional handler holds its row locked, and its transaction is ended at its timeout (cancelled if need
 * be: jobs/job-transaction.ts), so its lease only has to outlast the timeout. The lease is also how long a crashed
 * replica's job waits to be claimed again: keep transactional timeouts short.
 */
const TRANSACTION_LEASE_MARGIN_MS = 5_000;
/** After the grace: how long abandoned handlers get to roll back (a stuck statement is cancelled) and hand back. */
const HAND_BACK_MS = 8_000;

interface Running extends Attempt {
  renewAt: number;
  done: Promise<void>;
}

export function createJobRunner(deps: Deps, registry: JobRegistry, options: RunnerOptions = {}): JobRunner {
  const id = options.runnerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
  const pollIntervalMs = options.pollIntervalMs ?? 1_000;
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const stopGraceMs = options.stopGraceMs ?? 10_000;
  const externalLeaseMs = options.externalLeaseMs ?? 30_000;
  const kindNames = [...registry.kinds.keys()];
  const log = deps.logger.child({ runner: id });
  const ctx: AttemptContext = { deps, runnerId: id, log, random: options.random ?? Math.random };
  const running = new Map<number, Running>();

  /** No more claims; the loop still tends what runs. */
  let stopping = false;
  /** The loop ends. */
  let halted = false;
  let loop: Promise<void> | null = null;
  let stopped: Promise<void> | null = null;
  let wake: (() => void) | null = null;
  /** A wake that came while the loop was busy: its next sleep is skipped. */
  let wakeRequested = false;
  /**
   * The last claim found work: more may be due, so a finished job wakes the loop at once. Not only when it filled
   * every slot: under per-key bounds a claim can stop short with work waiting, which the finish of a job under that
   * key makes claimable (waiting a poll interval for it held a busy endpoint to a few deliveries a second).
   */
  let backlog = false;

  const timeoutOf = (kind: JobKind) => kind.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const leaseOf = (kind: JobKind) => (kind.transactional ? timeoutOf(kind) + TRANSACTION_LEASE_MARGIN_MS : externalLeaseMs);
  const after = (ms: number) => new Date(deps.clock.now().getTime() + ms);

  async function claim(): Promise<JobRow[]> {
    const width = options.yieldTo ? options.yieldTo.backgroundSlots(concurrency) : concurrency;
    const slots = width - running.size;
    if (slots <= 0 || kindNames.length === 0) return [];
    const { claimed, abandoned } = await claimDueJobs(deps.db, registry, { runnerId: id, now: deps.clock.now(), slots, leaseOf });
    for (const jobId of abandoned) log.warn({ jobId }, "job dead: its last attempt's runner never finished it");
    return claimed;
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
    const timeout = setTimeout(() => entry.controller.abort(new JobAbort("timeout")), timeoutOf(kind));
    timeout.unref();
    entry.done = runAttempt(ctx, entry).finally(() => {
      clearTimeout(timeout);
      running.delete(job.id);
      if ((backlog && !options.yieldTo?.yielding()) || stopping) wakeLoop();
    });
    running.set(job.id, entry);
    return entry;
  }

  /** Lease renewals of external handlers (a transactional handler's row lock already guards its job). */
  async function tendRunning(): Promise<void> {
    const at = performance.now();
    const renew: Running[] = [];
    for (const entry of running.values()) {
      if (!entry.controller.signal.aborted && !entry.kind.transactional && at >= entry.renewAt) renew.push(entry);
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
    const claimed = await claim();
    backlog = claimed.length > 0;
    for (const job of claimed) begin(job);
  }

  function wakeLoop() {
    wakeRequested = true;
    wake?.();
  }

  async function pollLoop(): Promise<void> {
    let failing = false; // one warning per outage, not one a poll
    while (!halted) {
      try {
        await tick();
        if (failing) log.info("job runner: polling again");
        failing = false;
      } catch (err) {
        if (failing) log.debug({ err }, "job runner: poll failed");
        else log.warn({ err }, "job runner: poll failed; retrying every poll interval");
        failing = true;
      }
      if (halted) break;
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
      // No max_attempts of its own: a recurring job never dies.
      await jobs.enqueueJob(deps.db, { kind: kind.kind, dedupeKey: recurringDedupeKey(kind.kind), runAt: deps.clock.now() });
    }
  }

  const allDone = () => Promise.all([...running.values()].map((e) => e.done));

  async function stopRunner(): Promise<void> {
    stopping = true;
    // The loop goes on tending through the grace: external leases renewed (timeouts have their own timers).
    loop ??= pollLoop();
    wakeLoop();
    if (!(await settlesWithin(allDone(), stopGraceMs))) {
      log.warn({ jobs: running.size }, "job runner: handlers still running at the end of the grace; handing them back");
      for (const entry of running.values()) entry.controller.abort(new JobAbort("stopping"));
      if (!(await settlesWithin(allDone(), HAND_BACK_MS))) {
        log.error({ jobs: running.size }, "job runner: handlers did not hand back; their jobs run again after their leases");
      }
    }
    halted = true;
    wakeLoop();
    await loop;
  }

  return {
    id,
    stopBoundMs: stopGraceMs + HAND_BACK_MS,
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
    stop() {
      stopped ??= stopRunner();
      return stopped;
    },
  };
}
