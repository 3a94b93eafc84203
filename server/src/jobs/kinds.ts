/**
 * What a job kind is, and the registry the runner reads when it starts.
 *
 * A kind is either transactional (database-only work: the handler gets the transaction that also records the
 * job's completion, so its effects and "done" commit together or not at all: exactly once) or external (anything
 * that talks to the outside, such as a webhook delivery: at least once, so the receiver must tolerate a repeat, and
 * the handler is given an AbortSignal that fires when its lease is lost or the runner stops).
 */
import type { Knex } from "knex";
import type { Config } from "../config.js";
import type { Deps } from "../deps.js";
import type { JobRow, NewJob } from "../stores/jobs.js";
import type { OutboxRow } from "../stores/outbox.js";

export interface JobOutcome {
  /** Run the job again at this instant instead of finishing it (a recurring job with more work waiting). */
  runAgainAt?: Date;
}

interface JobKindBase {
  kind: string;
  /**
   * Attempts before the job is dead, unless the job was enqueued with its own bound (recurring kinds never die: they
   * retry until their next run). Default DEFAULT_MAX_ATTEMPTS.
   */
  maxAttempts?: number;
  /** Delay before retry number `attempt` (1 after the first failure); jitter is added by the runner. */
  retryDelayMs?: (attempt: number) => number;
  /** How long one attempt may take before it is abandoned. Default 60 s. */
  timeoutMs?: number;
  /** For jobs enqueued with a queue key: how many of this kind run at once under one key. Default 1. */
  concurrencyPerKey?: number;
  /** A recurring kind: exactly one row (dedupe key `recurring:<kind>`), rescheduled this long after each run. */
  everyMs?: (config: Config) => number;
}

export interface TransactionalJobKind extends JobKindBase {
  transactional: true;
  /**
   * Does the work with `trx` only (never `deps.db`: the embedded database has a single connection, and work
   * outside `trx` would not commit with the job). Throwing rolls everything back and schedules a retry.
   */
  run(trx: Knex.Transaction, job: JobRow, deps: Deps): Promise<JobOutcome | void>;
}

export interface ExternalJobKind extends JobKindBase {
  transactional: false;
  run(job: JobRow, deps: Deps, signal: AbortSignal): Promise<JobOutcome | void>;
}

export type JobKind = TransactionalJobKind | ExternalJobKind;

/** How an outbox topic becomes jobs: called in the dispatching transaction, once per row. */
export interface OutboxTopic {
  topic: string;
  /** The row's jobs (none is fine). Each gets the row's tenant and, unless it names one, a dedupe key of the row. */
  jobsFor(trx: Knex.Transaction, row: OutboxRow, deps: Deps): Promise<NewJob[]>;
  /**
   * The jobs of many rows at once (index-aligned with `rows`), for the dispatcher's batch path: one query for a
   * whole batch instead of one per row. Must mean the same as jobsFor row by row.
   */
  jobsForMany?(trx: Knex.Transaction, rows: OutboxRow[], deps: Deps): Promise<NewJob[][]>;
}

export interface JobRegistry {
  kinds: ReadonlyMap<string, JobKind>;
  topics: ReadonlyMap<string, OutboxTopic>;
}

export function createJobRegistry(kinds: JobKind[], topics: OutboxTopic[] = []): JobRegistry {
  const byKind = new Map<string, JobKind>();
  for (const k of kinds) {
    if (byKind.has(k.kind)) throw new Error(`job kind ${k.kind} is registered twice`);
    byKind.set(k.kind, k);
  }
  const byTopic = new Map<string, OutboxTopic>();
  for (const t of topics) {
    if (byTopic.has(t.topic)) throw new Error(`outbox topic ${t.topic} is registered twice`);
    byTopic.set(t.topic, t);
  }
  return { kinds: byKind, topics: byTopic };
}

export const DEFAULT_MAX_ATTEMPTS = 10;

/** The job's own bound on attempts, else its kind's, else the default. */
export function maxAttemptsOf(kind: JobKind, job: { max_attempts: number | null }): number {
  return job.max_attempts ?? kind.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
}

export const recurringDedupeKey = (kind: string) => `recurring:${kind}`;

// Kinds and topics defined outside server/src/jobs (a feature's module, or a test's probe loaded with `--import`)
// add themselves here before the service starts its runner; the built-in ones are listed in jobs/index.ts.
const extraKinds: JobKind[] = [];
const extraTopics: OutboxTopic[] = [];

export function registerJobKind(kind: JobKind): void {
  extraKinds.push(kind);
}

export function registerOutboxTopic(topic: OutboxTopic): void {
  extraTopics.push(topic);
}

export function registeredExtras(): { kinds: readonly JobKind[]; topics: readonly OutboxTopic[] } {
  return { kinds: [...extraKinds], topics: [...extraTopics] };
}
