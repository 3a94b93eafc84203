import type { Knex } from "knex";
import { preparedQuery } from "../db/prepared.js";

export interface ApiKeyRow {
  id: string;
  tenant_id: string;
  name: string | null;
  start: string;
  secret_hash: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

/**
 * The key and its authentication lookup (api_key_lookup: hash → tenant, a reference table under Citus, see
 * docs/scaling.md). Two statements, so only in a transaction: both commit or neither does.
 */
export async function insertApiKey(db: Knex.Transaction, row: Omit<ApiKeyRow, "created_at" | "last_used_at" | "revoked_at">) {
  const [inserted] = await db<ApiKeyRow>("api_keys").insert(row).returning("*");
  await db("api_key_lookup").insert({ secret_hash: row.secret_hash, tenant_id: row.tenant_id, key_id: row.id });
  return inserted!;
}

/**
 * The authentication lookup, on every API request: the key of this secret's hash, and its tenant. The request
 * arrives without a tenant, so this reads the lookup table alone; only keys that authenticate have a row there.
 */
export async function findActiveKeyByHash(db: Knex, secretHash: string) {
  const { rows } = await preparedQuery<Pick<ApiKeyRow, "id" | "tenant_id">>(
    db,
    "auth_api_key",
    "SELECT key_id AS id, tenant_id FROM api_key_lookup WHERE secret_hash = $1",
    [secretHash],
  );
  return rows[0];
}

export async function listApiKeys(db: Knex, tenantId: string, page: { limit: number; after?: string }) {
  const q = db<ApiKeyRow>("api_keys").where({ tenant_id: tenantId }).orderBy("id", "desc").limit(page.limit + 1);
  if (page.after) q.where("id", "<", page.after);
  return q;
}

/**
 * Revokes once; returns the row whether it was revoked now or earlier, undefined if not this tenant's. The lookup
 * row goes in the same transaction, so no replica authenticates the key once this commits.
 */
export async function revokeApiKey(trx: Knex.Transaction, tenantId: string, id: string, at: Date) {
  const [row] = await trx<ApiKeyRow>("api_keys")
    .where({ tenant_id: tenantId, id })
    .update({ revoked_at: trx.raw("coalesce(revoked_at, ?)", [at]) as unknown as Date })
    .returning("*");
  if (row) await trx("api_key_lookup").where({ secret_hash: row.secret_hash }).delete();
  return row;
}

/** Records a use, unless one was recorded within `resolutionMs` (by any replica). */
export async function touchApiKey(db: Knex, tenantId: string, id: string, at: Date, resolutionMs: number) {
  await db<ApiKeyRow>("api_keys")
    .where({ tenant_id: tenantId, id })
    .where((w) => w.whereNull("last_used_at").orWhere("last_used_at", "<", new Date(at.getTime() - resolutionMs)))
    .update({ last_used_at: at });
}
