/**
 * A tenant's settings live sparse in `tenants.settings` (jsonb): only what the tenant changed is stored, and every
 * reader (the API, the retention purge) fills in the same defaults, so changing a default changes it for everyone
 * who never chose. The defaults are the spec's (components.schemas.TenantSettings).
 */
import { SCHEMA_DEFAULTS } from "@maskline/openapi/constants";
import type { components } from "@maskline/openapi/schema";

/** How long ended sessions and call records are kept unless the tenant chose otherwise. */
export const DEFAULT_RETENTION_DAYS: number = SCHEMA_DEFAULTS.TenantSettings.retentionDays;

export type TenantSettings = components["schemas"]["TenantSettings"];

/** The settings in force, from what is stored; anything unusable there reads as the default. */
export function effectiveSettings(stored: Readonly<Record<string, unknown>> | null | undefined): TenantSettings {
  const retention = stored?.retentionDays;
  return {
    retentionDays: typeof retention === "number" && Number.isInteger(retention) && retention >= 1 ? retention : DEFAULT_RETENTION_DAYS,
  };
}
