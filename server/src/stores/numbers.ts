import type { Knex } from "knex";

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
