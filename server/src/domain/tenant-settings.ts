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
/** Digits in new PIN sessions' PINs unless the tenant chose otherwise (components.schemas.PinLength). */
export const DEFAULT_PIN_LENGTH: number = SCHEMA_DEFAULTS.TenantSettings.pinLength;
const PIN_LENGTH_LIMITS = PROPERTY_LIMITS.TenantSettings.pinLength;

export type TenantSettings = components["schemas"]["TenantSettings"];

function integerWithin(value: unknown, limits: { minimum: number; maximum: number }): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= limits.minimum && value <= limits.maximum;
}

/** The settings in force, from what is stored; anything unusable there reads as the default. */
export function effectiveSettings(stored: Readonly<Record<string, unknown>> | null | undefined): TenantSettings {
  const retention = stored?.retentionDays;
  const pinLength = stored?.pinLength;
  return {
    retentionDays: integerWithin(retention, RETENTION_LIMITS) ? retention : DEFAULT_RETENTION_DAYS,
    pinLength: integerWithin(pinLength, PIN_LENGTH_LIMITS) ? pinLength : DEFAULT_PIN_LENGTH,
  };
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
