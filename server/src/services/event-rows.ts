/** A new event row (services/events.ts records it); no deps, so the call log can build one without a cycle. */
import { newId } from "../crypto/ids.js";
import type { EventType } from "../domain/events.js";
import type { EventRow } from "../stores/events.js";

export function newEventRow(tenantId: string, type: EventType, data: object, now: Date): EventRow {
  return { tenant_id: tenantId, id: newId("evt"), type, data: data as Record<string, unknown>, created_at: now };
}
