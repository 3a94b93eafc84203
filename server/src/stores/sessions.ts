import type { Knex } from "knex";
import type { SessionMode } from "@maskline/openapi/constants";
import { preparedQuery } from "../db/prepared.js";
import type { SessionStatus } from "../domain/session-state.js";
import { sessionEndedSql, sessionLapsedSql, sessionLiveSql, whereSessionStatusAt } from "./session-ended.js";

export interface SessionRow {
  id: string;
  tenant_id: string;
  app_id: string;
  pool: string;
  mode: SessionMode;
  /** `number`: routed by (caller, DID); `pin`: both participants on one DID, routed by PIN. */
  routing: "number" | "pin";
  /** Calls of this session are recorded (after the app's notice). */
  recording: boolean;
  status: SessionStatus;
  reference: string | null;
  metadata: Record<string, string>;
  created_at: Date;
  expires_at: Date;
  closed_at: Date | null;
}

export interface ParticipantRow {
  id: string;
  tenant_id: string;
  session_id: string;
  position: number;
  label: string | null;
  /** Null once the person was erased. */
  number_enc: string | null;
  number_bidx: string | null;
  masked_number: string | null;
  proxy_number_id: string;
  /** PIN sessions: the keyed hash of the PIN that reaches the other participant (services/pin-sessions.ts). */
  pin_hash: string | null;
  /** The master key id the PIN hash was made with (a rotation cannot re-key a hash: it does not know the PIN). */
  pin_key_id: string | null;
  /** Set by an erasure: the number, its blind index and masked form are gone (services/erasures.ts). */
  erased_at: Date | null;
  active: boolean;
  created_at: Date;
  released_at: Date | null;
}

/** A participant as the API shows it: never the real number, only its masked form and the proxy DID. */
export type ParticipantView = Pick<ParticipantRow, "id" | "session_id" | "position" | "label" | "masked_number"> & {
  proxy_e164: string;
};

export async function findSession(db: Knex, tenantId: string, id: string, opts: { forUpdate?: boolean } = {}) {
  const q = db<SessionRow>("sessions").where({ tenant_id: tenantId, id }).first();
  if (opts.forUpdate) q.forUpdate();
  return q;
}

export async function participantViews(db: Knex, tenantId: string, sessionIds: string[]): Promise<ParticipantView[]> {
  if (sessionIds.length === 0) return [];
  return db("participants as p")
    .join("numbers as n", (j) => j.on("n.tenant_id", "p.tenant_id").andOn("n.id", "p.proxy_number_id"))
    .select("p.id", "p.session_id", "p.position", "p.label", "p.masked_number", "n.e164 as proxy_e164")
    .where("p.tenant_id", tenantId)
    .whereIn("p.session_id", sessionIds)
    .orderBy([{ column: "p.session_id" }, { column: "p.position" }]);
}

export interface SessionFilter {
  status?: SessionStatus;
  reference?: string;
  pool?: string;
  limit: number;
  after?: string;
}

export async function listSessions(db: Knex, tenantId: string, f: SessionFilter, now: Date) {
  const q = db<SessionRow>("sessions").where({ tenant_id: tenantId }).orderBy("id", "desc").limit(f.limit + 1);
  if (f.after) q.where("id", "<", f.after);
  if (f.reference) q.where({ reference: f.reference });
  if (f.pool) q.where({ pool: f.pool });
  // Status as callers see it: an open session past expires_at is expired even before the sweeper marks it.
  if (f.status) whereSessionStatusAt(q, "sessions", f.status, now);
  return q;
}

/** Closes an open, unexpired session; an expired one stays expired (its status is what happened to it). */
export async function closeSession(db: Knex, tenantId: string, id: string, now: Date) {
  const [row] = await db<SessionRow>("sessions")
    .where({ tenant_id: tenantId, id })
    .whereRaw(sessionLiveSql("sessions", "?"), [now])
    .update({ status: "closed", closed_at: now })
    .returning("*");
  return row;
}

/** Marks an open session past its expiry expired (what the sweeper would do); the row when this call did. */
export async function expireLapsedSession(db: Knex, tenantId: string, id: string, now: Date) {
  const [row] = await db<SessionRow>("sessions")
    .where({ tenant_id: tenantId, id })
    .whereRaw(sessionLapsedSql("sessions", "?"), [now])
    .update({ status: "expired" })
    .returning("*");
  return row;
}

export async function findSessions(db: Knex, tenantId: string, ids: string[]): Promise<SessionRow[]> {
  if (ids.length === 0) return [];
  return db<SessionRow>("sessions").where({ tenant_id: tenantId }).whereIn("id", ids);
}

export async function releaseSessionParticipants(db: Knex, tenantId: string, sessionIds: string[], now: Date) {
  if (sessionIds.length === 0) return 0;
  return db<ParticipantRow>("participants")
    .where({ tenant_id: tenantId, active: true })
    .whereIn("session_id", sessionIds)
    .update({ active: false, released_at: now });
}

/** True once any participant of the session was released: the session ended, whatever its row says yet. */
export async function hasReleasedParticipants(db: Knex, tenantId: string, sessionId: string): Promise<boolean> {
  const row = await db<ParticipantRow>("participants")
    .where({ tenant_id: tenantId, session_id: sessionId, active: false })
    .first("id");
  return row !== undefined;
}

export async function updateSession(db: Knex, tenantId: string, id: string, patch: Partial<Pick<SessionRow, "expires_at" | "metadata">>) {
  const [row] = await db<SessionRow>("sessions").where({ tenant_id: tenantId, id }).update(patch).returning("*");
  return row!;
}

// ---- The allocator's statements: prepared, one round trip each (the create path runs them on every request). ----
//
// Written like the routing statements (stores/routing.ts explains why): each table is reached by a probe on the
// key its index is built for, and conditions that would let a tenant-wide index scan look as cheap go outside a
// LIMIT (or in a per-person branch) where they only filter. Two traps the cached plans fell into before:
// `number_bidx IN ($a, $b)` was not used as an index condition in the generic plan (the scan became "every active
// participant of the tenant"), and `status = 'open' AND expires_at > $n` next to the session's id made
// sessions_open_expiry ("every open session") look as good as the primary key. Hence one branch per person, and
// each session probed by its primary key (tenant, id) alone with its state checked in the ON clause.

/**
 * Within the allocation transaction, one round trip: releases this pair's rows whose session ended (closed, or
 * past expiry: a lagging sweeper costs nothing), and returns the DIDs each person holds in live sessions (`held`)
 * and the DID each had most recently (`last`, for stickiness). The SELECT sees the snapshot from before the CTE's
 * UPDATE, so it filters ended sessions itself; the UPDATE still lands before this transaction inserts.
 * The ended sessions are share-locked: a PATCH extending one of them at its expiry instant holds it FOR UPDATE,
 * so this waits for that commit and re-checks the row (an extended session is no longer ended, and keeps its
 * participants). Usually no row qualifies and nothing is locked. The held/last SELECT keeps the statement's
 * snapshot from before that wait, so it may miss the extended session's DID; the pairing index then refuses the
 * insert and the retry (a fresh snapshot) sees it: one retry, never a broken invariant.
 * Every participants access is by (tenant, person) on participants_person_active / participants_person, every
 * session by its primary key (tenant, id): the work is bounded by the two people's own rows, whatever the tenant's
 * size.
 */
export async function releaseEndedAndReadPairDids(trx: Knex, tenantId: string, bidxA: string, bidxB: string, now: Date) {
  const { rows } = await preparedQuery<{ number_bidx: string; proxy_number_id: string; kind: "held" | "last" }>(
    trx,
    "alloc_pair_dids",
    `WITH mine AS (
       (SELECT id, session_id, number_bidx, proxy_number_id FROM participants
         WHERE tenant_id = $1 AND number_bidx = $2 AND active)
       UNION ALL
       (SELECT id, session_id, number_bidx, proxy_number_id FROM participants
         WHERE tenant_id = $3 AND number_bidx = $4 AND active)
     ), ended AS (
       SELECT m.id FROM mine m
         JOIN LATERAL (SELECT 1 FROM sessions s
                        WHERE s.tenant_id = $5 AND s.id = m.session_id AND ${sessionEndedSql("s", "$6")}
                        LIMIT 1 FOR SHARE) s ON true
     ), released_first AS (
       UPDATE participants SET active = false, released_at = $7
        WHERE tenant_id = $8 AND number_bidx = $9 AND active AND id IN (SELECT id FROM ended)
     ), released_second AS (
       UPDATE participants SET active = false, released_at = $10
        WHERE tenant_id = $11 AND number_bidx = $12 AND active AND id IN (SELECT id FROM ended)
     )
     SELECT m.number_bidx, m.proxy_number_id, 'held' AS kind FROM mine m
       JOIN LATERAL (SELECT status, expires_at FROM sessions s WHERE s.tenant_id = $13 AND s.id = m.session_id LIMIT 1) s
         ON ${sessionLiveSql("s", "$14")}
     UNION ALL
     (SELECT number_bidx, proxy_number_id, 'last' FROM participants
       WHERE tenant_id = $15 AND number_bidx = $16 ORDER BY id DESC LIMIT 1)
     UNION ALL
     (SELECT number_bidx, proxy_number_id, 'last' FROM participants
       WHERE tenant_id = $17 AND number_bidx = $18 ORDER BY id DESC LIMIT 1)`,
    // The tenant is bound in every table access, not carried through the CTE: a statement whose every access names
    // the same tenant value is one Citus routes to a single shard (docs/scaling.md).
    [tenantId, bidxA, tenantId, bidxB, tenantId, now, now, tenantId, bidxA, now, tenantId, bidxB, tenantId, now, tenantId, bidxA, tenantId, bidxB],
  );
  return rows;
}

/**
 * The picked DIDs that are still active, share-locked so no release can commit under this allocation. Each is
 * probed by primary key (tenant, id; its status checked outside the probe) in the order listed, which is id order,
 * so two allocations picking the same pair cannot deadlock.
 */
export async function lockPickedDids(trx: Knex, tenantId: string, didA: string, didB: string): Promise<Set<string>> {
  const [first, second] = didA <= didB ? [didA, didB] : [didB, didA];
  const { rows } = await preparedQuery<{ id: string }>(
    trx,
    "alloc_lock_dids",
    `SELECT n.id
       FROM (VALUES ($1::text), ($2::text)) picked (id)
       JOIN LATERAL (SELECT id, status FROM numbers WHERE tenant_id = $3 AND id = picked.id LIMIT 1 FOR SHARE) n
         ON n.status = 'active'`,
    [first, second, tenantId],
  );
  return new Set(rows.map((r) => r.id));
}

type NewSession = Omit<SessionRow, "closed_at" | "status">;
type NewParticipant = Omit<ParticipantRow, "created_at" | "released_at" | "active" | "erased_at">;

/** The session and both participants in one statement (foreign keys are checked at its end). */
export async function insertSessionWithPair(trx: Knex, s: NewSession, pair: [NewParticipant, NewParticipant]) {
  const participantValues = pair.flatMap((p) => [
    p.id, p.tenant_id, p.session_id, p.position, p.label, p.number_enc, p.number_bidx, p.masked_number, p.proxy_number_id, p.pin_hash, p.pin_key_id,
    s.created_at,
  ]);
  await preparedQuery(
    trx,
    "alloc_insert_session",
    `WITH s AS (
       INSERT INTO sessions (id, tenant_id, app_id, pool, mode, routing, recording, status, reference, metadata, created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $9::jsonb, $10, $11)
     )
     INSERT INTO participants
       (id, tenant_id, session_id, position, label, number_enc, number_bidx, masked_number, proxy_number_id, pin_hash, pin_key_id, created_at)
     VALUES ($12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23), ($24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35)`,
    [
      s.id, s.tenant_id, s.app_id, s.pool, s.mode, s.routing, s.recording, s.reference, JSON.stringify(s.metadata), s.created_at, s.expires_at,
      ...participantValues,
    ],
  );
}

/**
 * A person's rows still under a previous key's blind index (a rotation under way), moved to the current one with a
 * fresh ciphertext, in the allocating transaction: the pairing index then sees all of this person's live rows under
 * one index value, so no new session can pair them twice with a DID (jobs/rekey.ts does everyone else's).
 */
export async function rekeyPerson(trx: Knex, tenantId: string, previousBidxs: readonly string[], bidx: string, numberEnc: string): Promise<number> {
  if (previousBidxs.length === 0) return 0;
  return trx<ParticipantRow>("participants")
    .where({ tenant_id: tenantId })
    .whereIn("number_bidx", [...previousBidxs])
    .update({ number_bidx: bidx, number_enc: numberEnc });
}
