/**
 * Webhook endpoints and their delivery attempts (migration 011). Secrets are stored only encrypted (`*_enc`);
 * rows never leave the services as they are.
 */
import type { Knex } from "knex";
import type { EventType } from "../domain/events.js";

export interface EndpointRow {
  tenant_id: string;
  id: string;
  url: string;
  event_types: EventType[];
  description: string | null;
  enabled: boolean;
  disabled_reason: "gone" | "failing" | null;
  secret_enc: string;
  previous_secret_enc: string | null;
  previous_secret_until: Date | null;
  failing_since: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface DeliveryRow {
  tenant_id: string;
  id: string;
  endpoint_id: string;
  event_id: string;
  attempt: number;
  outcome: "succeeded" | "failed";
  status_code: number | null;
  error: string | null;
  duration_ms: number;
  created_at: Date;
}

type Db = Knex | Knex.Transaction;

export async function insertEndpoint(db: Db, row: EndpointRow): Promise<void> {
  await db("webhook_endpoints").insert(row);
}

export async function countEndpoints(db: Db, tenantId: string): Promise<number> {
  const row = await db("webhook_endpoints").where({ tenant_id: tenantId }).whereNull("deleted_at").count({ n: "*" }).first();
  return Number(row?.n ?? 0);
}

export async function findEndpoint(db: Db, tenantId: string, id: string, opts: { forUpdate?: boolean } = {}) {
  const q = db<EndpointRow>("webhook_endpoints").where({ tenant_id: tenantId, id }).whereNull("deleted_at").first();
  if (opts.forUpdate) q.forUpdate();
  return (await q) as EndpointRow | undefined;
}

export async function listEndpoints(db: Db, tenantId: string, f: { limit: number; after?: string }): Promise<EndpointRow[]> {
  const q = db<EndpointRow>("webhook_endpoints").where({ tenant_id: tenantId }).whereNull("deleted_at").orderBy("id", "desc").limit(f.limit + 1);
  if (f.after) q.where("id", "<", f.after);
  return q;
}

/** The tenant's enabled endpoints that want `type` (an empty list wants every type). */
export async function subscribedEndpoints(db: Db, tenantId: string, type: EventType): Promise<Array<{ id: string }>> {
  return db("webhook_endpoints")
    .select("id")
    .where({ tenant_id: tenantId, enabled: true })
    .whereNull("deleted_at")
    .where((q) => q.whereRaw("cardinality(event_types) = 0").orWhereRaw("? = ANY (event_types)", [type]))
    .orderBy("id");
}

/** The enabled endpoints of these tenants, with their type filters, in id order (the dispatcher's batch read). */
export async function enabledEndpointsOf(db: Db, tenantIds: string[]): Promise<Array<{ tenant_id: string; id: string; event_types: EventType[] }>> {
  if (tenantIds.length === 0) return [];
  return db("webhook_endpoints")
    .select("tenant_id", "id", "event_types")
    .whereIn("tenant_id", tenantIds)
    .where({ enabled: true })
    .whereNull("deleted_at")
    .orderBy(["tenant_id", "id"]);
}

export type EndpointPatch = Partial<
  Pick<
    EndpointRow,
    "url" | "event_types" | "description" | "enabled" | "disabled_reason" | "secret_enc" | "previous_secret_enc" | "previous_secret_until" | "failing_since"
  >
>;

export async function updateEndpoint(db: Db, tenantId: string, id: string, patch: EndpointPatch, now: Date) {
  const [row] = (await db("webhook_endpoints")
    .where({ tenant_id: tenantId, id })
    .whereNull("deleted_at")
    .update({ ...patch, updated_at: now })
    .returning("*")) as EndpointRow[];
  return row;
}

/**
 * Deletes the endpoint: its secrets are wiped and it stops receiving at once (pending deliveries find it gone). The
 * row stays as a tombstone, so deleting it again is the same 204. False when the tenant never had it.
 */
export async function deleteEndpoint(db: Db, tenantId: string, id: string, now: Date): Promise<boolean> {
  const n = await db("webhook_endpoints")
    .where({ tenant_id: tenantId, id })
    .update({
      deleted_at: db.raw("coalesce(deleted_at, ?::timestamptz)", [now]),
      enabled: false,
      secret_enc: "",
      previous_secret_enc: null,
      previous_secret_until: null,
      updated_at: now,
    });
  return n > 0;
}

/** A success ends the endpoint's failing streak. */
export async function markEndpointHealthy(db: Db, tenantId: string, id: string): Promise<void> {
  await db("webhook_endpoints").where({ tenant_id: tenantId, id }).whereNotNull("failing_since").update({ failing_since: null });
}

/** A failure starts the streak if none is running; returns when it started. */
export async function markEndpointFailing(db: Db, tenantId: string, id: string, now: Date): Promise<Date | null> {
  const [row] = (await db("webhook_endpoints")
    .where({ tenant_id: tenantId, id })
    .update({ failing_since: db.raw("coalesce(failing_since, ?::timestamptz)", [now]) })
    .returning("failing_since")) as Array<{ failing_since: Date }>;
  return row ? new Date(row.failing_since) : null;
}

/** Disables an enabled endpoint; the row when this call disabled it (so exactly one caller records the event). */
export async function disableEndpoint(db: Db, tenantId: string, id: string, reason: "gone" | "failing", now: Date) {
  const [row] = (await db("webhook_endpoints")
    .where({ tenant_id: tenantId, id, enabled: true })
    .whereNull("deleted_at")
    .update({ enabled: false, disabled_reason: reason, updated_at: now })
    .returning("*")) as EndpointRow[];
  return row;
}

export async function insertDelivery(db: Db, row: DeliveryRow): Promise<void> {
  await db("webhook_deliveries").insert(row);
}

/** Newest first, each with its event's type (the event outlives none of its deliveries: they cascade with it). */
export async function listDeliveries(db: Db, tenantId: string, endpointId: string, f: { eventId?: string; limit: number; after?: string }) {
  const q = db("webhook_deliveries as d")
    .join("events as e", (j) => j.on("e.tenant_id", "d.tenant_id").andOn("e.id", "d.event_id"))
    .select("d.*", "e.type as event_type")
    .where({ "d.tenant_id": tenantId, "d.endpoint_id": endpointId })
    .orderBy("d.id", "desc")
    .limit(f.limit + 1);
  if (f.eventId) q.where({ "d.event_id": f.eventId });
  if (f.after) q.where("d.id", "<", f.after);
  return q as Promise<Array<DeliveryRow & { event_type: EventType }>>;
}
