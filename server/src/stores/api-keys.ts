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

export async function insertApiKey(db: Knex, row: Omit<ApiKeyRow, "created_at" | "last_used_at" | "revoked_at">) {
  const [inserted] = await db<ApiKeyRow>("api_keys").insert(row).returning("*");
  return inserted!;
}

/** The authentication lookup, on every API request: an unrevoked key by the hash of its secret. */
export async function findActiveKeyByHash(db: Knex, secretHash: string) {
  const { rows } = await preparedQuery<Pick<ApiKeyRow, "id" | "tenant_id" | "last_used_at">>(
    db,
    "auth_api_key",
    "SELECT id, tenant_id, last_used_at FROM api_keys WHERE secret_hash = $1 AND revoked_at IS NULL",
    [secretHash],
  );
  return rows[0];
}

export async function listApiKeys(db: Knex, tenantId: string, page: { limit: number; after?: string }) {
  const q = db<ApiKeyRow>("api_keys").where({ tenant_id: tenantId }).orderBy("id", "desc").limit(page.limit + 1);
  if (page.after) q.where("id", "<", page.after);
  return q;
}

/** Revokes once; returns the row whether it was revoked now or earlier, undefined if not this tenant's. */
export async function revokeApiKey(db: Knex, tenantId: string, id: string, at: Date) {
  const [row] = await db<ApiKeyRow>("api_keys")
    .where({ tenant_id: tenantId, id })
    .update({ revoked_at: db.raw("coalesce(revoked_at, ?)", [at]) as unknown as Date })
    .returning("*");
  return row;
}

export async function touchApiKey(db: Knex, id: string, at: Date) {
  await db<ApiKeyRow>("api_keys").where({ id }).update({ last_used_at: at });
}
