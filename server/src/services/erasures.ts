/**
 * Erasing one person from a tenant (docs/privacy.md, "Erasure"): `POST /v1/erasures {number}` records the request
 * and queues the `privacy.erase` job, which in one transaction finds every participant row of that number (under
 * every live key's blind index), closes their open sessions, takes the number, its blind index and masked form out
 * of those rows, drops the stored replies of their calls, deletes the events about those sessions, calls and
 * recordings, the idempotency records that named the person, their PIN lockouts and exports, and replaces the number
 * where the tenant wrote it into a session's reference or metadata. Recordings are deleted at the carrier first
 * (jobs/recording-delete.ts); the erasure completes once they are gone.
 *
 * Nothing keeps the number: the erasure row holds counts and times; the job carries the blind indexes and the number
 * encrypted (to find it in free text), and empties its own payload when it completes. The other participants of
 * those sessions keep their own data. Erasing twice finds nothing the second time, and says so in its counts.
 */
import type { Knex } from "knex";
import type { Deps } from "../deps.js";
import { notFound, validationFailed } from "../errors.js";
import { newId } from "../crypto/ids.js";
import { normalizeNumber } from "../phone/numbers.js";
import { enqueueJob, enqueueOrRevive, clearJobPayload } from "../stores/jobs.js";
import * as store from "../stores/erasures.js";
import type { ErasureRow } from "../stores/erasures.js";
import * as sessions from "../stores/sessions.js";
import { deleteIdempotencyKeysNaming } from "../stores/idempotency.js";
import { recordingDeletion } from "./recordings.js";
import { newEventRow, recordEvents } from "./events.js";
import type { StoreResult } from "./idempotency.js";
import { renderSessions } from "./sessions.js";
import { iso, isoOrNull, type Schemas } from "./shapes.js";

export const ERASE_KIND = "privacy.erase";
/** How often an erasure waiting on the carrier's deletion of its recordings looks again. */
export const ERASURE_RECHECK_MS = 30_000;
/** What replaces the number where a tenant wrote it into free text. */
const ERASED = "[erased]";

type Erasure = Schemas["Erasure"];

export interface ErasePayload {
  erasureId: string;
  bidxs: string[];
  numberEnc: string;
}

const ZERO_COUNTS = { participants: 0, sessionsClosed: 0, calls: 0, recordings: 0, events: 0, idempotencyKeys: 0, pinLockouts: 0, exports: 0 };

export function toErasure(row: ErasureRow): Erasure {
  return {
    id: row.id,
    status: row.status,
    createdAt: iso(new Date(row.created_at)),
    completedAt: isoOrNull(row.completed_at ? new Date(row.completed_at) : null),
    counts: row.status === "completed" && row.counts ? ({ ...ZERO_COUNTS, ...row.counts } as Erasure["counts"]) : null,
  };
}

/** The number of a privacy request in E.164 (national numbers read in `country`), or a 422 naming the field. */
export function personOf(input: Schemas["PersonRequest"]): string {
  const e164 = normalizeNumber(input.number, input.country ?? "IN");
  if (!e164) throw validationFailed([{ path: "/body/number", message: "is not a valid phone number" }]);
  return e164;
}

export async function requestErasure(
  deps: Pick<Deps, "db" | "keys" | "clock">,
  tenantId: string,
  input: Schemas["PersonRequest"],
  storeResult?: StoreResult<Erasure>,
): Promise<Erasure> {
  const e164 = personOf(input);
  const bidxs = deps.keys.blindIndexes(e164);
  return deps.db.transaction(async (trx) => {
    const now = deps.clock.now();
    const row = await store.insertErasure(trx, { tenant_id: tenantId, id: newId("era"), created_at: now });
    const payload: ErasePayload = { erasureId: row.id, bidxs, numberEnc: deps.keys.encrypt(e164) };
    await enqueueJob(trx, { kind: ERASE_KIND, tenantId, payload: { ...payload }, runAt: now, dedupeKey: `${ERASE_KIND}:${tenantId}:${row.id}` });
    const erasure = toErasure(row);
    // The request named the person: its stored result is found (and removed) by the erasure itself.
    await storeResult?.(trx, erasure, bidxs);
    return erasure;
  });
}

export async function getErasure(deps: Pick<Deps, "db">, tenantId: string, id: string): Promise<Erasure> {
  const row = await store.findErasure(deps.db, tenantId, id);
  if (!row) throw notFound("Erasure");
  return toErasure(row);
}

export async function listErasures(deps: Pick<Deps, "db">, tenantId: string, page: { limit: number; after?: string }) {
  return store.listErasures(deps.db, tenantId, page);
}

/** Every form the number may have been typed in (E.164, without "+", national), longest first. */
function writtenForms(e164: string): string[] {
  return [...new Set([e164, e164.slice(1), e164.slice(3)])].filter((f) => f.length >= 7).sort((a, b) => b.length - a.length);
}

function maskIn(text: string, forms: string[], masked: string): string {
  let out = text;
  for (const form of forms) out = out.split(form).join(masked);
  return out;
}

/**
 * The number, where the tenant wrote it into a session's reference or metadata, replaced by "[erased]" (not its
 * masked form: that still says its country and last digits).
 */
async function maskFreeText(trx: Knex.Transaction, tenantId: string, sessionIds: string[], e164: string): Promise<void> {
  const forms = writtenForms(e164);
  const masked = ERASED;
  for (const text of await store.sessionTexts(trx, tenantId, sessionIds)) {
    const reference = text.reference === null ? null : maskIn(text.reference, forms, masked);
    const metadata = Object.fromEntries(Object.entries(text.metadata ?? {}).map(([k, v]) => [k, maskIn(String(v), forms, masked)]));
    if (reference !== text.reference || JSON.stringify(metadata) !== JSON.stringify(text.metadata)) {
      await store.rewriteSessionText(trx, tenantId, { id: text.id, reference, metadata });
    }
  }
}

/** Closes the open ones of these sessions (or marks them expired past their expiry) and says so, once each. */
async function endSessions(trx: Knex.Transaction, tenantId: string, ids: string[], now: Date): Promise<number> {
  const closed: sessions.SessionRow[] = [];
  const expired: sessions.SessionRow[] = [];
  for (const id of ids) {
    const row = await sessions.closeSession(trx, tenantId, id, now);
    if (row) closed.push(row);
    else {
      const lapsed = await sessions.expireLapsedSession(trx, tenantId, id, now);
      if (lapsed) expired.push(lapsed);
    }
  }
  await sessions.releaseSessionParticipants(trx, tenantId, ids, now);
  const events = [
    ...(await renderSessions(trx, tenantId, closed, now)).map((s) => newEventRow(tenantId, "session.closed", s, now)),
    ...(await renderSessions(trx, tenantId, expired, now)).map((s) => newEventRow(tenantId, "session.expired", s, now)),
  ];
  await recordEvents(trx, events);
  return closed.length + expired.length;
}

/**
 * The erasure's first run: everything in the database, in the job's transaction. Returns whether recordings are
 * still to be deleted at the carrier (the job then looks again later).
 */
async function eraseInDatabase(deps: Pick<Deps, "keys" | "clock">, trx: Knex.Transaction, tenantId: string, job: { id: number; payload: ErasePayload }): Promise<boolean> {
  const { erasureId, bidxs } = job.payload;
  const now = deps.clock.now();
  const e164 = deps.keys.decrypt(job.payload.numberEnc);
  const rows = await store.lockPersonRows(trx, tenantId, bidxs);
  const participantIds = rows.map((r) => r.id);
  const sessionIds = [...new Set(rows.map((r) => r.session_id))];
  const callIds = await store.callsOfParticipants(trx, tenantId, sessionIds, participantIds);
  const recordingIds = await store.recordingsOfCalls(trx, tenantId, callIds);

  // The events about them go first: the closing events written below carry the erased (null) number, not the old one.
  const events = await store.deleteEventsAbout(trx, tenantId, { sessions: sessionIds, calls: callIds, recordings: recordingIds });
  const participants = await store.eraseParticipants(trx, tenantId, participantIds, now);
  // Before the closing events render the sessions: they must not carry the number the tenant wrote into one.
  await maskFreeText(trx, tenantId, sessionIds, e164);
  const sessionsClosed = await endSessions(trx, tenantId, sessionIds, now);
  const calls = await store.dropStoredReplies(trx, tenantId, callIds);
  const idempotencyKeys = await deleteIdempotencyKeysNaming(trx, tenantId, bidxs);
  const pinLockouts = await store.deletePinLockouts(trx, tenantId, bidxs);
  const exports = await store.deleteExportsOf(trx, tenantId, bidxs);
  for (const id of recordingIds) await enqueueOrRevive(trx, { ...recordingDeletion(tenantId, id), runAt: now });

  const counts = { participants, sessionsClosed, calls, recordings: recordingIds.length, events, idempotencyKeys, pinLockouts, exports };
  const waiting = recordingIds.length > 0;
  await store.updateErasure(trx, tenantId, erasureId, {
    status: waiting ? "running" : "completed",
    counts,
    pending_recordings: recordingIds,
    completed_at: waiting ? null : now,
  });
  if (!waiting) await clearJobPayload(trx, job.id);
  return waiting;
}

/** A later run: complete once the carrier has deleted every recording (each deletion is its own job). */
async function recheckRecordings(deps: Pick<Deps, "clock">, trx: Knex.Transaction, tenantId: string, job: { id: number; payload: ErasePayload }, erasure: ErasureRow): Promise<boolean> {
  const left = await store.remainingRecordings(trx, tenantId, erasure.pending_recordings);
  if (left.length > 0) return true;
  await store.updateErasure(trx, tenantId, erasure.id, { status: "completed", pending_recordings: [], completed_at: deps.clock.now() });
  await clearJobPayload(trx, job.id);
  return false;
}

/**
 * One run of an erasure's job: the erasure itself the first time, then (while recordings await their deletion at
 * the carrier) a look at what is left. True while there is something to wait for.
 */
export async function runErasure(
  deps: Pick<Deps, "keys" | "clock">,
  trx: Knex.Transaction,
  tenantId: string,
  job: { id: number; payload: Record<string, unknown> },
): Promise<boolean> {
  const payload = job.payload as unknown as ErasePayload;
  const erasure = await store.findErasure(trx, tenantId, payload.erasureId, { forUpdate: true });
  if (!erasure || erasure.status === "completed" || erasure.status === "failed") return false;
  if (erasure.status === "pending") return eraseInDatabase(deps, trx, tenantId, { id: job.id, payload });
  return recheckRecordings(deps, trx, tenantId, { id: job.id, payload }, erasure);
}
