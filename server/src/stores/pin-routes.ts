/**
 * Single-number PIN sessions' statements (docs/call-flows.md): which DIDs carry PIN sessions, the route a PIN names
 * on a DID, and the per-(DID, caller) lockout. PIN-routed participant rows carry `pin_hash`; the unique index
 * participants_active_pin (tenant, DID, pin_hash) WHERE active AND pin_hash IS NOT NULL is both what keeps a PIN
 * unique among a DID's live sessions and the index every probe here is written for (see stores/routing.ts on why
 * each step is a LIMIT 1 probe by the whole key of its index).
 */
import type { Knex } from "knex";
import type { SessionMode } from "@maskline/openapi/constants";
import type { SessionStatus } from "../domain/session-state.js";

/** How many live PIN rows each of the DIDs holds (two per PIN session): the allocator takes the least loaded. */
export async function pinLoadOfDids(db: Knex, tenantId: string, didIds: string[]): Promise<Map<string, number>> {
  if (didIds.length === 0) return new Map();
  const rows = (await db("participants")
    .select("proxy_number_id")
    .count({ n: "*" })
    .where({ tenant_id: tenantId, active: true })
    .whereNotNull("pin_hash")
    .whereIn("proxy_number_id", didIds)
    .groupBy("proxy_number_id")) as Array<{ proxy_number_id: string; n: string | number }>;
  return new Map(rows.map((r) => [r.proxy_number_id, Number(r.n)]));
}

export interface PinDidRow {
  number_id: string;
  /** The tenant's settings, for the PIN length it asks for. */
  settings: Record<string, unknown>;
}

/**
 * The dialled DID (by its global claim, then the tenant's row, owned by this app and active), when at least one
 * live PIN row is on it; undefined otherwise. Asked only when the caller has no pairing on the DID.
 */
export async function findPinDid(db: Knex, key: { tenantId: string; appId: string; did: string }): Promise<PinDidRow | undefined> {
  const { rows } = await db.raw<{ rows: PinDidRow[] }>(
    `SELECT n.id AS number_id, t.settings
       FROM (SELECT number_id FROM number_claims WHERE e164 = ? LIMIT 1) c
       JOIN LATERAL (SELECT id, app_id, status FROM numbers WHERE tenant_id = ? AND id = c.number_id LIMIT 1) n
         ON n.app_id = ? AND n.status = 'active'
       JOIN LATERAL (SELECT 1 FROM participants
                      WHERE tenant_id = ? AND proxy_number_id = n.id AND active AND pin_hash IS NOT NULL LIMIT 1) p ON true
       JOIN LATERAL (SELECT settings FROM tenants WHERE id = ? LIMIT 1) t ON true`,
    [key.did, key.tenantId, key.appId, key.tenantId, key.tenantId],
  );
  return rows[0];
}

export interface PinRouteRow {
  session_id: string;
  session_status: SessionStatus;
  session_mode: SessionMode;
  session_recording: boolean;
  expires_at: Date;
  /** The participant whose PIN this is: only their registered number may use it. */
  owner_participant_id: string;
  owner_position: number;
  owner_bidx: string | null;
  /** The hash that matched (one of a rotation's keys). */
  owner_pin_hash: string;
  other_participant_id: string;
  other_number_enc: string;
  /** The shared DID: the Dial's caller ID (the other participant sees the same number they dial). */
  did: string;
}

/**
 * The live PIN row one of `pinHashes` (the PIN under each live key) names on the DID, with its session and the
 * other participant; undefined if none.
 */
export async function findPinRoute(db: Knex, tenantId: string, numberId: string, pinHashes: readonly string[]): Promise<PinRouteRow | undefined> {
  const { rows } = await db.raw<{ rows: PinRouteRow[] }>(
    `SELECT s.id AS session_id, s.status AS session_status, s.mode AS session_mode, s.recording AS session_recording,
            s.expires_at, p.id AS owner_participant_id, p.position AS owner_position, p.number_bidx AS owner_bidx,
            p.pin_hash AS owner_pin_hash, o.id AS other_participant_id, o.number_enc AS other_number_enc, d.e164 AS did
       FROM (SELECT id, session_id, position, number_bidx, pin_hash FROM participants
              WHERE tenant_id = ? AND proxy_number_id = ? AND pin_hash = ANY(?::text[]) AND active LIMIT 1) p
       JOIN LATERAL (SELECT id, status, mode, recording, expires_at FROM sessions WHERE tenant_id = ? AND id = p.session_id LIMIT 1) s
         ON true
       JOIN LATERAL (SELECT id, number_enc FROM participants
                      WHERE tenant_id = ? AND session_id = p.session_id AND position <> p.position LIMIT 1) o ON true
       JOIN LATERAL (SELECT e164 FROM numbers WHERE tenant_id = ? AND id = ? LIMIT 1) d ON true`,
    [tenantId, numberId, [...pinHashes], tenantId, tenantId, tenantId, numberId],
  );
  return rows[0];
}

/** A PIN found under a previous key is stored again under the current one (the PIN is known only at this moment). */
export async function rehashPin(db: Knex, tenantId: string, participantId: string, pinHash: string, keyId: string): Promise<void> {
  await db("participants").where({ tenant_id: tenantId, id: participantId }).update({ pin_hash: pinHash, pin_key_id: keyId });
}

export interface LockoutRow {
  failures: Date[];
  locked_until: Date | null;
}

export interface LockoutKey {
  tenantId: string;
  numberId: string;
  callerBidx: string;
}

/**
 * The caller's lockout state on the DID, with its row locked for this transaction (created if new): attempts by the
 * same caller on the same DID, from any replica, are counted one after another.
 */
export async function lockPinCaller(trx: Knex.Transaction, key: LockoutKey, now: Date): Promise<LockoutRow> {
  const { rows } = await trx.raw<{ rows: LockoutRow[] }>(
    `INSERT INTO pin_lockouts AS l (tenant_id, number_id, caller_bidx, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (tenant_id, number_id, caller_bidx) DO UPDATE SET updated_at = l.updated_at
     RETURNING l.failures, l.locked_until`,
    [key.tenantId, key.numberId, key.callerBidx, now],
  );
  const row = rows[0]!;
  return { failures: (row.failures ?? []).map((d) => new Date(d)), locked_until: row.locked_until ? new Date(row.locked_until) : null };
}

export async function savePinLockout(trx: Knex.Transaction, key: LockoutKey, state: LockoutRow, now: Date): Promise<void> {
  await trx("pin_lockouts")
    .where({ tenant_id: key.tenantId, number_id: key.numberId, caller_bidx: key.callerBidx })
    .update({ failures: state.failures, locked_until: state.locked_until, updated_at: now });
}

/** Lockout rows nothing has touched since `before` hold no live lockout or counting failure (purge). */
export async function purgeStaleLockouts(trx: Knex.Transaction, before: Date, limit: number): Promise<number> {
  const result = await trx.raw<{ rowCount: number }>(
    `DELETE FROM pin_lockouts WHERE (tenant_id, number_id, caller_bidx) IN (
       SELECT tenant_id, number_id, caller_bidx FROM pin_lockouts WHERE updated_at < ? LIMIT ?)`,
    [before, limit],
  );
  return result.rowCount ?? 0;
}

/** The dialled DID, when it is an active number of this app; with the tenant's settings (the PIN length asked). */
export async function findDidOfApp(db: Knex, key: { tenantId: string; appId: string; did: string }): Promise<PinDidRow | undefined> {
  const { rows } = await db.raw<{ rows: PinDidRow[] }>(
    `SELECT n.id AS number_id, t.settings
       FROM (SELECT number_id FROM number_claims WHERE e164 = ? LIMIT 1) c
       JOIN LATERAL (SELECT id, app_id, status FROM numbers WHERE tenant_id = ? AND id = c.number_id LIMIT 1) n
         ON n.app_id = ? AND n.status = 'active'
       JOIN LATERAL (SELECT settings FROM tenants WHERE id = ? LIMIT 1) t ON true`,
    [key.did, key.tenantId, key.appId, key.tenantId],
  );
  return rows[0];
}
