import type { Deps } from "../deps.js";
import { notFound } from "../errors.js";
import { newId } from "../crypto/ids.js";
import * as store from "../stores/tenants.js";
import type { TenantRow } from "../stores/tenants.js";
import { issueApiKey } from "./api-keys.js";
import { iso, type Schemas } from "./shapes.js";
import type { PageRequest } from "../domain/pagination.js";
import type { StoreResult } from "./idempotency.js";
import { effectiveSettings } from "../domain/tenant-settings.js";

export const toTenant = (row: TenantRow): Schemas["Tenant"] => ({ id: row.id, name: row.name, createdAt: iso(row.created_at) });

/** A tenant and its first key, in one transaction: no tenant is left without a way in. */
export async function createTenant(
  deps: Pick<Deps, "db">,
  input: { name: string },
  storeResult?: StoreResult<Schemas["CreateTenantResponse"]>,
): Promise<Schemas["CreateTenantResponse"]> {
  return deps.db.transaction(async (trx) => {
    const tenant = await store.insertTenant(trx, { id: newId("ten"), name: input.name });
    const apiKey = await issueApiKey(trx, tenant.id, { name: "default" });
    const created = { tenant: toTenant(tenant), apiKey };
    await storeResult?.(trx, created);
    return created;
  });
}

export async function listTenants(deps: Pick<Deps, "db">, page: PageRequest) {
  return store.listTenants(deps.db, page);
}

export async function requireTenant(deps: Pick<Deps, "db">, tenantId: string): Promise<TenantRow> {
  const tenant = await store.findTenant(deps.db, tenantId);
  if (!tenant) throw notFound("Tenant");
  return tenant;
}

export async function getSettings(deps: Pick<Deps, "db">, tenantId: string): Promise<Schemas["TenantSettings"]> {
  return effectiveSettings((await requireTenant(deps, tenantId)).settings);
}

/** Only the fields given change; the answer is the settings in force afterwards. */
export async function updateSettings(
  deps: Pick<Deps, "db">,
  tenantId: string,
  input: Schemas["UpdateTenantSettingsRequest"],
): Promise<Schemas["TenantSettings"]> {
  const row = await store.mergeSettings(deps.db, tenantId, { ...input });
  if (!row) throw notFound("Tenant");
  return effectiveSettings(row.settings);
}
