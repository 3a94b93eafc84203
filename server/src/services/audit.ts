/**
 * The audit log (docs/audit-log.md): who changed what through the API, when, from where. Records arrive from the
 * route layer (http/audit.ts) once a change has committed; this module gives each its id and time, and reads them
 * back for the tenant and for the operator. Nothing here changes or removes an event: the log is append-only, and
 * only the retention purge (jobs/sweeper.ts) deletes what is past MASKLINE_AUDIT_RETENTION_DAYS.
 */
import type { Deps } from "../deps.js";
import { newId } from "../crypto/ids.js";
import * as store from "../stores/audit.js";
import type { AuditEventRow } from "../stores/audit.js";
import { iso, type Schemas } from "./shapes.js";

export type AuditEvent = Schemas["AuditEvent"];

/** Who acted: a tenant's API key, or the operator (its token names no one more precisely). */
export type AuditActor = ({ type: "api_key"; apiKeyId: string } | { type: "operator" }) & {
  /** The web console session the change was made in; absent when made with the key or token itself. */
  consoleSessionId?: string;
};

/** One change, as the route layer describes it: ids and addresses only, never a value from a request body. */
export interface AuditRecord {
  tenantId: string;
  actor: AuditActor;
  action: string;
  resourceType: string;
  resourceId: string | null;
  ip: string | null;
  requestId: string;
}

/** Appends one event, in its own statement (the change it describes has committed already: see http/audit.ts). */
export async function recordAuditEvent(deps: Pick<Deps, "db" | "clock">, record: AuditRecord): Promise<void> {
  await store.insertAuditEvent(deps.db, {
    tenant_id: record.tenantId,
    id: newId("aud"),
    actor_type: record.actor.type,
    api_key_id: record.actor.type === "api_key" ? record.actor.apiKeyId : null,
    console_session_id: record.actor.consoleSessionId ?? null,
    action: record.action,
    resource_type: record.resourceType,
    resource_id: record.resourceId,
    ip: record.ip,
    request_id: record.requestId,
    created_at: deps.clock.now(),
  });
}

export function toAuditEvent(row: AuditEventRow): AuditEvent {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    actor: { type: row.actor_type, apiKeyId: row.api_key_id, consoleSessionId: row.console_session_id },
    action: row.action,
    resourceType: row.resource_type,
    resourceId: row.resource_id,
    ip: row.ip,
    requestId: row.request_id,
    createdAt: iso(new Date(row.created_at)),
  };
}

/** The tenant's own events, newest first; never another tenant's (the store binds the tenant in every read). */
export async function listAuditEvents(deps: Pick<Deps, "db">, tenantId: string, filter: store.AuditEventFilter) {
  return store.listAuditEvents(deps.db, tenantId, filter);
}

/** The operator's view: every tenant's events, or one tenant's with `tenantId`, newest first. */
export async function listAuditEventsAcrossTenants(deps: Pick<Deps, "db">, filter: store.OperatorAuditEventFilter) {
  return store.listAuditEventsAcrossTenants(deps.db, filter);
}
