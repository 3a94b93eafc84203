/**
 * Session expiry and the retention purge, as recurring jobs: each kind has one row in `jobs`, so one replica runs
 * it at a time (whichever claimed the row), and its work commits with its next schedule.
 */
import type { Knex } from "knex";
import type { Deps } from "../deps.js";
import { expireDueSessions, purgePastRetention } from "../stores/maintenance.js";
import { enqueueOrRevive, purgeFinishedJobs } from "../stores/jobs.js";
import { recordingsPastRetention } from "../stores/recordings.js";
import { purgeStaleLockouts } from "../stores/pin-routes.js";
import { recordingDeletion } from "../services/recordings.js";
import { EXPORT_KEPT_MS } from "../services/exports.js";
import { purgeOldExports } from "../stores/exports.js";
import { purgeDispatchedOutbox } from "../stores/outbox.js";
import { purgeAuditEventsPastRetention } from "../stores/audit.js";
import { purgeEndedConsoleSessions } from "../stores/console-sessions.js";
import { DEFAULT_RETENTION_DAYS } from "../domain/tenant-settings.js";
import { recordSessionsExpired } from "../services/sessions.js";
import type { TransactionalJobKind } from "./kinds.js";

const EXPIRY_BATCH = 1000;
const PURGE_BATCH = 10_000;
/** Retention is counted in days: purging hourly is plenty, and keeps its work away from the hot paths. */
const PURGE_EVERY_MS = 3600_000;
const DAY_MS = 86_400_000;
/** Finished jobs stay visible to the operator this long; dead ones longer, to be looked into. */
export const SUCCEEDED_JOBS_KEPT_MS = 7 * DAY_MS;
export const DEAD_JOBS_KEPT_MS = 30 * DAY_MS;
/** A dispatched outbox row has done its work (its jobs carry what they need); kept a day for inspection. */
export const DISPATCHED_OUTBOX_KEPT_MS = DAY_MS;
/** A PIN lockout row untouched this long holds no live lockout and no failure still counting (15 minutes each). */
const PIN_LOCKOUTS_KEPT_MS = DAY_MS;
/** An ended console session is kept a day (the audit log names it; the row itself holds nothing more). */
const ENDED_CONSOLE_SESSIONS_KEPT_MS = DAY_MS;

export interface PurgeCounts {
  sessions: number;
  calls: number;
  /** Recordings whose deletion at the carrier (then here) was queued. */
  recordings: number;
  pinLockouts: number;
  /** Exports past their week. */
  exports: number;
  events: number;
  idempotencyKeys: number;
  nonces: number;
  jobs: number;
  outbox: number;
  /** Audit events past MASKLINE_AUDIT_RETENTION_DAYS (the audit log's own retention, not the tenant's). */
  auditEvents: number;
  /** Web console sessions that ended (signed out or past their end) over a day ago. */
  consoleSessions: number;
}

/**
 * Marks one batch of sessions past their expiry expired and releases their DIDs. Routing never depends on this (it
 * checks expires_at itself); expiry keeps the index of active rows small and the status column truthful for lists.
 */
export async function expireSessionsIn(trx: Knex.Transaction, now: Date): Promise<number> {
  const expired = await expireDueSessions(trx, now, EXPIRY_BATCH);
  // Each marked once (the UPDATE moves only open rows), so each says `session.expired` once, with the mark.
  await recordSessionsExpired(trx, expired, now);
  return expired.length;
}

/** Deletes what is past the tenants' retention (privacy by design), and the runner's own finished rows. */
export async function purgeIn(trx: Knex.Transaction, now: Date, auditRetentionDays: number): Promise<PurgeCounts> {
  // Recordings first: their audio is at the carrier, so each is a job that deletes it there before its row goes;
  // their calls are purged once they have none left.
  const old = await recordingsPastRetention(trx, now, DEFAULT_RETENTION_DAYS, PURGE_BATCH);
  // A deletion that died (the carrier refused it for days) is tried afresh: the recording must go in the end.
  for (const r of old) await enqueueOrRevive(trx, { ...recordingDeletion(r.tenant_id, r.id), runAt: now });
  const data = await purgePastRetention(trx, now, DEFAULT_RETENTION_DAYS, PURGE_BATCH);
  const t = now.getTime();
  const pinLockouts = await purgeStaleLockouts(trx, new Date(t - PIN_LOCKOUTS_KEPT_MS), PURGE_BATCH);
  const exports = await purgeOldExports(trx, new Date(t - EXPORT_KEPT_MS), PURGE_BATCH);
  const jobs = await purgeFinishedJobs(trx, new Date(t - SUCCEEDED_JOBS_KEPT_MS), new Date(t - DEAD_JOBS_KEPT_MS), PURGE_BATCH);
  const outbox = await purgeDispatchedOutbox(trx, new Date(t - DISPATCHED_OUTBOX_KEPT_MS), PURGE_BATCH);
  const auditEvents = await purgeAuditEventsPastRetention(trx, now, auditRetentionDays, PURGE_BATCH);
  const consoleSessions = await purgeEndedConsoleSessions(trx, new Date(t - ENDED_CONSOLE_SESSIONS_KEPT_MS), PURGE_BATCH);
  return { ...data, recordings: old.length, pinLockouts, exports, jobs, outbox, auditEvents, consoleSessions };
}

export const sessionExpiryJob: TransactionalJobKind = {
  kind: "sessions.expire",
  transactional: true,
  everyMs: (config) => config.sweepIntervalMs,
  timeoutMs: 20_000,
  async run(trx, _job, deps) {
    const now = deps.clock.now();
    const expired = await expireSessionsIn(trx, now);
    if (expired) deps.logger.info({ expired }, "sessions expired");
    // A full batch: more are due, so the next batch runs now rather than an interval later.
    return expired === EXPIRY_BATCH ? { runAgainAt: now } : undefined;
  },
};

export const retentionPurgeJob: TransactionalJobKind = {
  kind: "retention.purge",
  transactional: true,
  everyMs: () => PURGE_EVERY_MS,
  timeoutMs: 5 * 60_000,
  async run(trx, _job, deps) {
    const now = deps.clock.now();
    const purged = await purgeIn(trx, now, deps.config.auditRetentionDays);
    if (Object.values(purged).some((n) => n > 0)) deps.logger.info({ purged }, "data past retention purged");
    const more = Object.entries(purged).some(([what, n]) => what !== "recordings" && n >= PURGE_BATCH);
    return more ? { runAgainAt: now } : undefined;
  },
};

/** Expires every session due now, batch after batch (what the expiry job does over its runs; tests call it). */
export async function expireSessions(deps: Pick<Deps, "db" | "clock">): Promise<number> {
  let expired = 0;
  for (;;) {
    const batch = await deps.db.transaction((trx) => expireSessionsIn(trx, deps.clock.now()));
    expired += batch;
    if (batch < EXPIRY_BATCH) return expired;
  }
}

/** One purge pass in its own transaction (what the purge job runs; tests call it). */
export function purgeExpiredData(deps: Pick<Deps, "db" | "clock" | "config">): Promise<PurgeCounts> {
  return deps.db.transaction((trx) => purgeIn(trx, deps.clock.now(), deps.config.auditRetentionDays));
}
