/**
 * Events to the tenant: which types there are and who wants which. The payload (`data`) is the resource as the API
 * returns it, shaped by the services; nothing here sees a phone number.
 */
import { EVENT_TYPE_VALUES, type EventType } from "@maskline/openapi/constants";

export type { EventType };
export const EVENT_TYPES: readonly EventType[] = EVENT_TYPE_VALUES;

/** An endpoint with no types listed receives every type. */
export function endpointWants(endpointTypes: readonly string[], type: EventType): boolean {
  return endpointTypes.length === 0 || endpointTypes.includes(type);
}

/** `pool.exhausted` is said at most this often per pool, however many creates it refuses. */
export const POOL_EXHAUSTED_EVERY_MS = 60_000;
