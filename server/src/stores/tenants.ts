import type { Knex } from "knex";

export interface TenantRow {
  id: string;
  name: string;
  settings: Record<string, unknown>;
  created_at: Date;
}

export async function insertTenant(db: Knex, row: Pick<TenantRow, "id" | "name">): Promise<TenantRow> {
  const [inserted] = await db<TenantRow>("tenants").insert(row).returning("*");
  return inserted!;
}

export async function findTenant(db: Knex, id: string): Promise<TenantRow | undefined> {
  return db<TenantRow>("tenants").where({ id }).first();
}

export async function listTenants(db: Knex, page: { limit: number; after?: string }): Promise<TenantRow[]> {
  const q = db<TenantRow>("tenants").orderBy("id", "desc").limit(page.limit + 1);
  if (page.after) q.where("id", "<", page.after);
  return q;
}

/** Merges `patch` into the stored settings (jsonb `||`: only the keys given change); undefined for an unknown tenant. */
export async function mergeSettings(db: Knex, id: string, patch: Record<string, unknown>): Promise<TenantRow | undefined> {
  const [row] = await db<TenantRow>("tenants")
    .where({ id })
    .update({ settings: db.raw("settings || ?::jsonb", [JSON.stringify(patch)]) as unknown as Record<string, unknown> })
    .returning("*");
  return row;
}
