/**
 * A tenant's settings live sparse in `tenants.settings` (jsonb): only what the tenant changed is stored, and every
 * reader (the API, the retention purge) fills in the same defaults, so changing a default changes it for everyone
 * who never chose. The defaults are the spec's (components.schemas.TenantSettings).
 */
import { PROPERTY_LIMITS, SCHEMA_DEFAULTS } from "@maskline/openapi/constants";
import type { components } from "@maskline/openapi/schema";

/** How long ended sessions and call records are kept unless the tenant chose otherwise. */
export const DEFAULT_RETENTION_DAYS: number = SCHEMA_DEFAULTS.TenantSettings.retentionDays;

/** The retention a tenant may choose (components.schemas.RetentionDays). */
const RETENTION_LIMITS = PROPERTY_LIMITS.TenantSettings.retentionDays;

export type TenantSettings = components["schemas"]["TenantSettings"];

/** The settings in force, from what is stored; anything unusable there reads as the default. */
export function effectiveSettings(stored: Readonly<Record<string, unknown>> | null | undefined): TenantSettings {
  const retention = stored?.retentionDays;
  const usable =
    typeof retention === "number" &&
    Number.isInteger(retention) &&
    retention >= RETENTION_LIMITS.minimum &&
    retention <= RETENTION_LIMITS.maximum;
  return { retentionDays: usable ? retention : DEFAULT_RETENTION_DAYS };
}

/**
 * effectiveSettings' retentionDays as SQL, for the purge that reads every tenant's settings in one statement: the
 * stored value when it is an integer the spec allows, else `defaultDays` (an SQL expression, e.g. a placeholder; it
 * appears once). A stored 0 therefore never purges everything, and a stored string or fraction never fails the cast
 * and stops the purge for every tenant. The nested CASE fixes the order of evaluation, so the casts only ever see a JSON number.
 */
export function retentionDaysSql(settings: string, defaultDays: string): string {
  const value = `(${settings}->>'retentionDays')::numeric`;
  return `coalesce(CASE WHEN jsonb_typeof(${settings}->'retentionDays') = 'number' THEN
      CASE WHEN ${value} BETWEEN ${RETENTION_LIMITS.minimum} AND ${RETENTION_LIMITS.maximum} AND ${value} = trunc(${value})
           THEN ${value}::int END END, ${defaultDays})`;
}
