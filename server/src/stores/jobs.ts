/**
 * The jobs table (migration 008): the durable queue every replica claims from. Each write that ends or moves a
 * claimed job is fenced on `locked_by`, so a runner whose lease was taken over changes nothing.
 */
import type { Knex } from "knex";

export type JobStatus = "queued" | "running" | "succeeded" | "failed" | "dead";

export interface JobRow {
  id: number;
  kind: string;
  payload: Record<string, unknown>;
  tenant_id: string | null;
  queue_key: string | null;
  dedupe_key: string | null;
  status: JobStatus;
  attempts: number;
  /** The job's own bound; null: its kind's (jobs/kinds.ts maxAttemptsOf). */
  max_attempts: number | null;
  run_at: Date;
  locked_by: string | null;
  locked_until: Date | null;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

export interface NewJob {
  kind: string;
  payload?: Record<string, unknown>;
  /** The tenant the job acts for, when it acts for one. */
  tenantId?: string | null;
  /** Jobs sharing it run at most their kind's concurrencyPerKey at a time. */
  queueKey?: string | null;
  /** Enqueue-once: while a row with this key exists, enqueueing again returns that row. */
  dedupeKey?: string | null;
  /** Not before this instant; the default is the database's now. */
  runAt?: Date;
  /** This job's own bound on attempts; by default its kind's. */
  maxAttempts?: number;
}

type Queryable = Knex | Knex.Transaction;

/**
 * Adds a job, in the caller's transaction when given one (the job then exists exactly when the change that asked
 * for it commits). Returns the new row's id, or the id of the row already holding the dedupe key.
 */
const JOB_COLUMNS = "(kind, payload, tenant_id, queue_key, dedupe_key, max_attempts, run_at)";
const JOB_VALUES = "(?, ?::jsonb, ?, ?, ?, ?::integer, coalesce(?::timestamptz, now()))";
const jobBindings = (job: NewJob) => [
  job.kind,
  JSON.stringify(job.payload ?? {}),
  job.tenantId ?? null,
  job.queueKey ?? null,
  job.dedupeKey ?? null,
  job.maxAttempts ?? null,
  job.runAt ?? null,
];

export async function enqueueJob(db: Queryable, job: NewJob): Promise<{ id: number; created: boolean }> {
  const result = await db.raw<{ rows: Array<{ id: number }> }>(
    `INSERT INTO jobs ${JOB_COLUMNS} VALUES ${JOB_VALUES}
     ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING
     RETURNING id`,
    jobBindings(job),
  );
  const id = result.rows[0]?.id;
  if (id !== undefined) return { id: Number(id), created: true };
  const existing = await db("jobs").where({ dedupe_key: job.dedupeKey }).first("id");
  if (!existing) throw new Error(`enqueueJob: dedupe key conflict but no row holds it (kind ${job.kind})`);
  return { id: Number(existing.id), created: false };
}

/**
 * Enqueues the job, or gives a dead one under the same dedupe key a fresh set of attempts: for work that must happen
 * in the end (a recording's deletion past retention), whose dead job would otherwise hold its key for a month.
 */
export async function enqueueOrRevive(db: Queryable, job: NewJob & { dedupeKey: string; runAt: Date }): Promise<void> {
  await db.raw(
    `INSERT INTO jobs ${JOB_COLUMNS} VALUES ${JOB_VALUES}
     ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL DO UPDATE
        SET status = 'queued', attempts = 0, run_at = excluded.run_at, finished_at = NULL, locked_by = NULL, locked_until = NULL
      WHERE jobs.status = 'dead'`,
    jobBindings(job),
  );
}

/** Adds many jobs in one statement (the outbox dispatcher's batch); rows whose dedupe key exists are skipped. */
export async function enqueueJobs(db: Queryable, list: NewJob[]): Promise<void> {
  if (list.length === 0) return;
  await db.raw(
    `INSERT INTO jobs ${JOB_COLUMNS} VALUES ${list.map(() => JOB_VALUES).join(", ")}
     ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING`,
    list.flatMap(jobBindings),
  );
}

export interface ClaimCandidate {
  id: number;
  kind: string;
  queue_key: string | null;
  status: JobStatus;
  attempts: number;
  max_attempts: number | null;
}

/**
 * Due rows of the given kinds, oldest first, locked for this transaction: queued or failed rows whose run_at has
 * come, and running rows whose lease ran out (their runner died). At most `perKey` of them share a queue key, so a
 * burst under one key cannot fill the window and keep other keys' jobs out of it (the window function sees every
 * due row: its cost follows the backlog, which is transient). SKIP LOCKED: rows another runner is claiming, and rows
 * a transactional handler holds while it runs, are passed over rather than waited for.
 */
export async function lockClaimCandidates(
  trx: Knex.Transaction,
  kinds: string[],
  now: Date,
  limit: number,
  perKey: number,
): Promise<ClaimCandidate[]> {
  if (kinds.length === 0 || limit <= 0) return [];
  const due = (q: Knex.QueryBuilder) =>
    q
      .whereIn("kind", kinds)
      .where((d) =>
        d
          .where((x) => x.whereIn("status", ["queued", "failed"]).where("run_at", "<=", now))
          .orWhere((x) => x.where("status", "running").where("locked_until", "<=", now)),
      );
  const ranked = trx("jobs")
    .select("id", "run_at", "queue_key", trx.raw("row_number() OVER (PARTITION BY queue_key ORDER BY run_at, id) AS nth"))
    .modify(due);
  const window = trx
    .from(ranked.as("ranked"))
    .select("id")
    .where((q) => q.whereNull("queue_key").orWhere("nth", "<=", perKey))
    .orderBy([{ column: "run_at" }, { column: "id" }])
    .limit(limit);
  // The due test again on the locked row: one another runner claimed since the window was read is no longer due.
  const rows = (await trx("jobs")
    .select("id", "kind", "queue_key", "status", "attempts", "max_attempts")
    .whereIn("id", window)
    .modify(due)
    .orderBy([{ column: "run_at" }, { column: "id" }])
    .forUpdate()
    .skipLocked()) as ClaimCandidate[];
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}

/** Serialises claims under one queue key until this transaction ends; false when another claimer holds it. */
export async function tryLockQueueKey(trx: Knex.Transaction, queueKey: string): Promise<boolean> {
  const result = await trx.raw<{ rows: Array<{ locked: boolean }> }>(
    "select pg_try_advisory_xact_lock(hashtextextended(?, 0)) as locked",
    [`maskline.jobs.queue:${queueKey}`],
  );
  return result.rows[0]?.locked === true;
}

/** How many jobs under the key hold a live lease. */
export async function countLeasedUnderKey(trx: Knex.Transaction, queueKey: string, now: Date): Promise<number> {
  const row = await trx("jobs")
    .where({ queue_key: queueKey, status: "running" })
    .where("locked_until", ">", now)
    .count({ n: "*" })
    .first();
  return Number(row?.n ?? 0);
}

/** Leases the rows to this runner; each claim counts as an attempt (so a job that kills its runner still ends). */
export async function markClaimed(trx: Knex.Transaction, ids: number[], runnerId: string, leaseUntil: Date, now: Date): Promise<JobRow[]> {
  if (ids.length === 0) return [];
  const rows = (await trx("jobs")
    .whereIn("id", ids)
    .update({
      status: "running",
      attempts: trx.raw("attempts + 1"),
      locked_by: runnerId,
      locked_until: leaseUntil,
      updated_at: now,
    })
    .returning("*")) as JobRow[];
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}

/** Gives up on rows whose last attempt ended with its runner (lease ran out at max_attempts). */
export async function markAbandonedDead(trx: Knex.Transaction, ids: number[], now: Date, error: string): Promise<void> {
  if (ids.length === 0) return;
  await trx("jobs")
    .whereIn("id", ids)
    .update({ status: "dead", locked_by: null, locked_until: null, last_error: error, finished_at: now, updated_at: now });
}

/**
 * Locks a claimed row in the handler's transaction, fenced on the lease: false when another runner has taken it
 * over. Held until the transaction ends, so no one can re-claim the job while its handler runs.
 */
export async function holdClaimedJob(trx: Knex.Transaction, id: number, runnerId: string): Promise<boolean> {
  const row = await trx("jobs").where({ id, locked_by: runnerId, status: "running" }).forUpdate().first("id");
  return row !== undefined;
}

/** The backend a job's transaction runs on, and that transaction's start: together they name it for a cancel. */
export interface JobBackend {
  pid: number;
  /** now() of the transaction, as text (microseconds, which a Date would round away). */
  xactStart: string;
}

/**
 * Bounds each statement of this transaction, and each lock wait, to `ms` (never above the connection's own
 * statement_timeout); returns what identifies the transaction for signalBackend.
 */
export async function boundJobTransaction(trx: Knex.Transaction, ms: number): Promise<JobBackend> {
  const result = await trx.raw<{ rows: Array<{ pid: number; xact_start: string }> }>(
    `WITH bound AS (
       SELECT least(nullif(setting::bigint, 0), ?::bigint)::text AS ms FROM pg_settings WHERE name = 'statement_timeout')
     SELECT pg_backend_pid() AS pid, now()::text AS xact_start,
            set_config('statement_timeout', ms, true), set_config('lock_timeout', ms, true)
       FROM bound`,
    [Math.max(1, Math.ceil(ms))],
  );
  const row = result.rows[0]!;
  return { pid: Number(row.pid), xactStart: row.xact_start };
}

/**
 * Cancels the statement the job's transaction is running (or terminates its backend), only while that same
 * transaction is still open: a pid whose connection went back to the pool belongs to someone else by then.
 */
export async function signalBackend(db: Knex, signal: "cancel" | "terminate", backend: JobBackend): Promise<boolean> {
  const fn = signal === "cancel" ? "pg_cancel_backend" : "pg_terminate_backend";
  const result = await db.raw<{ rows: Array<{ signalled: boolean }> }>(
    `SELECT ${fn}(pid) AS signalled FROM pg_stat_activity WHERE pid = ? AND xact_start = ?::timestamptz`,
    [backend.pid, backend.xactStart],
  );
  return result.rows[0]?.signalled === true;
}

const fenced = (db: Queryable, id: number, runnerId: string) => db("jobs").where({ id, locked_by: runnerId, status: "running" });

async function markFinished(db: Queryable, id: number, runnerId: string, status: "succeeded" | "dead", now: Date, error: string | null) {
  const update = { status, locked_by: null, locked_until: null, last_error: error, finished_at: now, updated_at: now };
  return (await fenced(db, id, runnerId).update(update)) === 1;
}

export const markSucceeded = (db: Queryable, id: number, runnerId: string, now: Date): Promise<boolean> =>
  markFinished(db, id, runnerId, "succeeded", now, null);

/** A recurring job's next run: back to queued, attempts counted afresh. */
export async function markRescheduled(db: Queryable, id: number, runnerId: string, runAt: Date, now: Date): Promise<boolean> {
  const n = await fenced(db, id, runnerId).update({
    status: "queued",
    attempts: 0,
    run_at: runAt,
    locked_by: null,
    locked_until: null,
    last_error: null,
    finished_at: now,
    updated_at: now,
  });
  return n === 1;
}

/** A failed attempt with a retry at `runAt`. */
export async function markFailed(db: Queryable, id: number, runnerId: string, runAt: Date, now: Date, error: string): Promise<boolean> {
  const n = await fenced(db, id, runnerId).update({
    status: "failed",
    run_at: runAt,
    locked_by: null,
    locked_until: null,
    last_error: error,
    updated_at: now,
  });
  return n === 1;
}

export const markDead = (db: Queryable, id: number, runnerId: string, now: Date, error: string): Promise<boolean> =>
  markFinished(db, id, runnerId, "dead", now, error);

/** Hands back a job its runner stopped before it finished (shutdown): not a failed attempt, due again at once. */
export async function releaseClaim(db: Queryable, id: number, runnerId: string, now: Date): Promise<boolean> {
  const n = await fenced(db, id, runnerId).update({
    status: "queued",
    attempts: db.raw("greatest(attempts - 1, 0)"),
    run_at: now,
    locked_by: null,
    locked_until: null,
    updated_at: now,
  });
  return n === 1;
}

/** Extends this runner's leases; returns the ids still held (a missing one was taken over or finished). */
export async function renewLeases(db: Queryable, ids: number[], runnerId: string, leaseUntil: Date, now: Date): Promise<Set<number>> {
  if (ids.length === 0) return new Set();
  const rows = await db("jobs")
    .whereIn("id", ids)
    .where({ locked_by: runnerId, status: "running" })
    .update({ locked_until: leaseUntil, updated_at: now })
    .returning("id");
  return new Set(rows.map((r: { id: number }) => Number(r.id)));
}

/** Deletes finished rows (succeeded before `succeededBefore`, dead before `deadBefore`); their dedupe keys free up. */
export async function purgeFinishedJobs(trx: Knex.Transaction, succeededBefore: Date, deadBefore: Date, limit: number): Promise<number> {
  const result = await trx.raw<{ rowCount: number }>(
    `DELETE FROM jobs WHERE id IN (
       SELECT id FROM jobs
        WHERE (status = 'succeeded' AND finished_at < ?) OR (status = 'dead' AND finished_at < ?)
        LIMIT ?)`,
    [succeededBefore, deadBefore, limit],
  );
  return result.rowCount ?? 0;
}

export async function findJob(db: Queryable, id: number): Promise<JobRow | undefined> {
  const row = (await db("jobs").where({ id }).first()) as JobRow | undefined;
  return row ? { ...row, id: Number(row.id) } : undefined;
}

/** A job's own payload emptied, in its transaction: for one that carried what must not outlive it (an erasure's). */
export async function clearJobPayload(trx: Knex.Transaction, id: number): Promise<void> {
  await trx("jobs").where({ id }).update({ payload: JSON.stringify({}) });
}
