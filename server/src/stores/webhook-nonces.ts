import type { Knex } from "knex";
import { preparedQuery } from "../db/prepared.js";

/**
 * The replay ledger in Postgres: used while Redis is unreachable (and for a while after), so replay refusal never
 * depends on Redis being up. One statement: the insert, and what was already there when it conflicted (the
 * scalar subquery reads the statement's snapshot, which does not include this insert).
 */
export async function recordNonce(
  db: Knex,
  key: { tenantId: string; appId: string; nonce: string },
  fingerprint: string,
): Promise<string | null> {
  const { rows } = await preparedQuery<{ inserted: boolean; existing: string | null }>(
    db,
    "nonce_record",
    `WITH ins AS (
       INSERT INTO webhook_nonces (tenant_id, app_id, nonce, fingerprint) VALUES ($1, $2, $3, $4)
       ON CONFLICT (tenant_id, app_id, nonce) DO NOTHING RETURNING 1
     )
     SELECT EXISTS (SELECT 1 FROM ins) AS inserted,
            (SELECT fingerprint FROM webhook_nonces WHERE tenant_id = $5 AND app_id = $6 AND nonce = $7) AS existing`,
    [key.tenantId, key.appId, key.nonce, fingerprint, key.tenantId, key.appId, key.nonce],
  );
  const row = rows[0]!;
  // A concurrent insert of the same nonce can leave `existing` unset for the loser: it is a replay of unknown kind.
  return row.inserted ? null : (row.existing ?? "");
}

/** Nonces older than the replay window are of no use; purged by the maintenance job. */
export async function purgeNonces(db: Knex, olderThan: Date, batchSize: number): Promise<number> {
  const result = await db.raw<{ rowCount: number }>(
    `DELETE FROM webhook_nonces WHERE ctid IN (SELECT ctid FROM webhook_nonces WHERE seen_at < ? LIMIT ?)`,
    [olderThan, batchSize],
  );
  return result.rowCount ?? 0;
}
