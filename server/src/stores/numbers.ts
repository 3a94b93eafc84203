import type { Knex } from "knex";
import { sessionEndedSql, sessionLiveSql } from "./session-ended.js";

export interface NumberRow {
  id: string;
  tenant_id: string;
  app_id: string;
  e164: string;
  pool: string;
  status: "active" | "released";
  created_at: Date;
  released_at: Date | null;
}

/** The global claim on a DID: one app of one tenant at a time, the primary key decides races. */
export interface NumberClaimRow {
  e164: string;
  tenant_id: string;
  number_id: string;
}

/** Key space (first half of the two-int advisory lock key) for "imports into this tenant's pool": "pool". */
const POOL_LOCK_CLASS = 0x706f6f6c;

/** Active DIDs of a tenant's pool, oldest first (a stable order for the allocator). */
export async function activePoolNumbers(db: Knex, tenantId: string, pool: string) {
  return db<NumberRow>("numbers")
    .select("id", "app_id", "e164")
    .where({ tenant_id: tenantId, pool, status: "active" })
    .orderBy("id");
}

export async function findNumber(db: Knex, tenantId: string, id: string) {
  return db<NumberRow>("numbers").where({ tenant_id: tenantId, id }).first();
}

/** The number row, locked for the rest of the transaction (release takes it before deciding anything). */
export async function findNumberForUpdate(trx: Knex.Transaction, tenantId: string, id: string) {
  return trx<NumberRow>("numbers").where({ tenant_id: tenantId, id }).forUpdate().first();
}

export interface NumberFilter {
  pool?: string | undefined;
  appId?: string | undefined;
  status?: NumberRow["status"] | undefined;
  limit: number;
  after?: string | undefined;
}

export async function listNumbers(db: Knex, tenantId: string, f: NumberFilter) {
  const q = db<NumberRow>("numbers").where({ tenant_id: tenantId }).orderBy("id", "desc").limit(f.limit + 1);
  if (f.after) q.where("id", "<", f.after);
  if (f.pool) q.where({ pool: f.pool });
  if (f.appId) q.where({ app_id: f.appId });
  if (f.status) q.where({ status: f.status });
  return q;
}

/**
 * Serialises imports into one pool of one tenant until commit, so "a pool belongs to one app" cannot be broken
 * by two imports from different apps checking at the same time.
 */
export async function lockPoolForImport(trx: Knex.Transaction, tenantId: string, pool: string) {
  await trx.raw("select pg_advisory_xact_lock(?, hashtext(?))", [POOL_LOCK_CLASS, `${tenantId}/${pool}`]);
}

/** Another app's active DID in this tenant's pool, if any: the pool belongs to that app. */
export async function otherAppInPool(db: Knex, tenantId: string, pool: string, appId: string) {
  return db<NumberRow>("numbers")
    .select("app_id")
    .where({ tenant_id: tenantId, pool, status: "active" })
    .whereNot({ app_id: appId })
    .first();
}

/**
 * Existing claims on these DIDs, share-locked: a concurrent release (which deletes its claim) waits for this
 * transaction, so a DID returned as "already here" is not released under the import's feet.
 */
export async function claimsFor(trx: Knex.Transaction, e164s: string[]) {
  if (e164s.length === 0) return [];
  return trx<NumberClaimRow>("number_claims").select("e164", "tenant_id", "number_id").whereIn("e164", e164s).forShare();
}

export async function findNumbersByIds(db: Knex, tenantId: string, ids: string[]) {
  if (ids.length === 0) return [];
  return db<NumberRow>("numbers").where({ tenant_id: tenantId }).whereIn("id", ids);
}

export async function insertNumbers(trx: Knex.Transaction, rows: Array<Pick<NumberRow, "id" | "tenant_id" | "app_id" | "e164" | "pool">>) {
  if (rows.length === 0) return [];
  return trx<NumberRow>("numbers").insert(rows).returning("*");
}

/** Rows are inserted in e164 order so two overlapping imports lock claims in the same order (no deadlock). */
export async function insertClaims(trx: Knex.Transaction, rows: NumberClaimRow[]) {
  if (rows.length === 0) return;
  const sorted = [...rows].sort((a, b) => (a.e164 < b.e164 ? -1 : a.e164 > b.e164 ? 1 : 0));
  await trx<NumberClaimRow>("number_claims").insert(sorted);
}

/**
 * Share-locks the sessions with an active participant on this DID: an extension in flight (PATCH holds its session
 * FOR UPDATE) commits first, so the statements after this one see its new expiry.
 */
export async function lockSessionsUsing(trx: Knex.Transaction, tenantId: string, numberId: string): Promise<void> {
  await trx.raw(
    `SELECT 1 FROM participants p JOIN sessions s ON s.tenant_id = p.tenant_id AND s.id = p.session_id
      WHERE p.tenant_id = ? AND p.proxy_number_id = ? AND p.active
        FOR SHARE OF s`,
    [tenantId, numberId],
  );
}

/** True while an open, unexpired session has an active participant on this DID. */
export async function inOpenSession(db: Knex, tenantId: string, numberId: string, now: Date): Promise<boolean> {
  const row = await db("participants as p")
    .join("sessions as s", (j) => j.on("s.tenant_id", "p.tenant_id").andOn("s.id", "p.session_id"))
    .select(db.raw("1"))
    .where({ "p.tenant_id": tenantId, "p.proxy_number_id": numberId, "p.active": true })
    .whereRaw(sessionLiveSql("s", "?"), [now])
    .first();
  return row !== undefined;
}

/** Releases participant rows still marked active on this DID whose sessions have ended (lagging sweeper). */
export async function releaseEndedParticipantsOn(trx: Knex.Transaction, tenantId: string, numberId: string, now: Date) {
  return trx("participants as p")
    .update({ active: false, released_at: now })
    .where({ "p.tenant_id": tenantId, "p.proxy_number_id": numberId, "p.active": true })
    .whereExists((sub) =>
      sub
        .select(trx.raw("1"))
        .from("sessions as s")
        .whereRaw("s.tenant_id = p.tenant_id AND s.id = p.session_id")
        .whereRaw(sessionEndedSql("s", "?"), [now]),
    );
}

export async function markReleased(trx: Knex.Transaction, tenantId: string, id: string, at: Date) {
  await trx<NumberRow>("numbers").where({ tenant_id: tenantId, id, status: "active" }).update({ status: "released", released_at: at });
}

/** Drops the global claim so the DID can be imported again, by this tenant or another. */
export async function deleteClaim(trx: Knex.Transaction, e164: string, numberId: string) {
  // By primary key; number_id makes sure only this number's claim goes (never a later import's).
  await trx<NumberClaimRow>("number_claims").where({ e164, number_id: numberId }).delete();
}
