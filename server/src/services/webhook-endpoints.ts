/**
 * A tenant's webhook endpoints: where its events go. URLs are checked against the delivery policy when written (and
 * again at every connection, in outbound/post.ts); secrets are generated here, stored encrypted, shown once.
 */
import type { Deps } from "../deps.js";
import { AppError, notFound, validationFailed } from "../errors.js";
import { newId } from "../crypto/ids.js";
import { newWebhookSecret } from "../crypto/webhook-secrets.js";
import { checkEndpointUrl } from "../outbound/endpoint-url.js";
import * as store from "../stores/webhook-endpoints.js";
import type { DeliveryRow, EndpointRow } from "../stores/webhook-endpoints.js";
import type { EventType } from "../domain/events.js";
import { iso, type Schemas } from "./shapes.js";

/** Endpoints per tenant: enough for every consumer a business runs, few enough that one event fans out boundedly. */
export const MAX_ENDPOINTS_PER_TENANT = 20;
/** How long the previous secret still signs after a rotation. */
export const PREVIOUS_SECRET_KEPT_MS = 24 * 3600_000;

type EndpointDeps = Pick<Deps, "db" | "keys" | "clock" | "config" | "resolver">;

export function toEndpoint(row: EndpointRow): Schemas["WebhookEndpoint"] {
  return {
    id: row.id,
    url: row.url,
    events: row.event_types,
    description: row.description,
    enabled: row.enabled,
    disabledReason: row.disabled_reason,
    createdAt: iso(new Date(row.created_at)),
    updatedAt: iso(new Date(row.updated_at)),
  };
}

export function toDelivery(row: DeliveryRow & { event_type: EventType }): Schemas["WebhookDelivery"] {
  return {
    id: row.id,
    endpointId: row.endpoint_id,
    eventId: row.event_id,
    eventType: row.event_type,
    attempt: row.attempt,
    outcome: row.outcome,
    statusCode: row.status_code,
    error: row.error,
    durationMs: row.duration_ms,
    createdAt: iso(new Date(row.created_at)),
  };
}

async function checkedUrl(deps: EndpointDeps, url: string): Promise<string> {
  const checked = await checkEndpointUrl(url, { allowPrivate: deps.config.webhookAllowPrivate, resolve: deps.resolver });
  if (!checked.ok) throw validationFailed([{ path: "/body/url", message: checked.reason }]);
  return checked.url.toString();
}

const uniqueTypes = (types: EventType[] | undefined) => [...new Set(types ?? [])];

export async function createEndpoint(deps: EndpointDeps, tenantId: string, input: Schemas["CreateWebhookEndpointRequest"]) {
  const url = await checkedUrl(deps, input.url);
  const secret = newWebhookSecret();
  return deps.db.transaction(async (trx) => {
    // Serialises creates of one tenant so the bound holds under concurrent requests.
    await trx.raw("SELECT 1 FROM tenants WHERE id = ? FOR UPDATE", [tenantId]);
    if ((await store.countEndpoints(trx, tenantId)) >= MAX_ENDPOINTS_PER_TENANT) {
      throw new AppError("conflict", `A tenant may have at most ${MAX_ENDPOINTS_PER_TENANT} webhook endpoints; delete one first.`);
    }
    const now = deps.clock.now();
    const row: EndpointRow = {
      tenant_id: tenantId,
      id: newId("whe"),
      url,
      event_types: uniqueTypes(input.events),
      description: input.description ?? null,
      enabled: true,
      disabled_reason: null,
      secret_enc: deps.keys.encrypt(secret),
      previous_secret_enc: null,
      previous_secret_until: null,
      failing_since: null,
      created_at: now,
      updated_at: now,
    };
    await store.insertEndpoint(trx, row);
    return { ...toEndpoint(row), secret };
  });
}

export async function getEndpoint(deps: Pick<Deps, "db">, tenantId: string, id: string) {
  const row = await store.findEndpoint(deps.db, tenantId, id);
  if (!row) throw notFound("Webhook endpoint");
  return toEndpoint(row);
}

export async function listEndpoints(deps: Pick<Deps, "db">, tenantId: string, page: { limit: number; after?: string }) {
  return store.listEndpoints(deps.db, tenantId, page);
}

export async function updateEndpoint(deps: EndpointDeps, tenantId: string, id: string, input: Schemas["UpdateWebhookEndpointRequest"]) {
  const url = input.url === undefined ? undefined : await checkedUrl(deps, input.url);
  const patch: store.EndpointPatch = {};
  if (url !== undefined) patch.url = url;
  if (input.events !== undefined) patch.event_types = uniqueTypes(input.events);
  if (input.description !== undefined) patch.description = input.description;
  if (input.enabled !== undefined) {
    patch.enabled = input.enabled;
    // Enabled again (or disabled by hand): the service's reason and failure streak no longer apply.
    patch.disabled_reason = null;
    if (input.enabled) patch.failing_since = null;
  }
  const row = await store.updateEndpoint(deps.db, tenantId, id, patch, deps.clock.now());
  if (!row) throw notFound("Webhook endpoint");
  return toEndpoint(row);
}

/** Deleting twice is fine (a tombstone answers the second); another tenant's id is 404 like an unknown one. */
export async function deleteEndpoint(deps: Pick<Deps, "db" | "clock">, tenantId: string, id: string) {
  if (!(await store.deleteEndpoint(deps.db, tenantId, id, deps.clock.now()))) throw notFound("Webhook endpoint");
}

/** A new secret; the old one keeps signing (a second `v1`) for 24 hours, so receivers can switch without a gap. */
export async function rotateSecret(deps: Pick<Deps, "db" | "keys" | "clock">, tenantId: string, id: string) {
  return deps.db.transaction(async (trx) => {
    const row = await store.findEndpoint(trx, tenantId, id, { forUpdate: true });
    if (!row) throw notFound("Webhook endpoint");
    const now = deps.clock.now();
    const secret = newWebhookSecret();
    await store.updateEndpoint(
      trx,
      tenantId,
      id,
      {
        secret_enc: deps.keys.encrypt(secret),
        previous_secret_enc: row.secret_enc,
        previous_secret_until: new Date(now.getTime() + PREVIOUS_SECRET_KEPT_MS),
      },
      now,
    );
    return { secret };
  });
}

export async function listDeliveries(
  deps: Pick<Deps, "db">,
  tenantId: string,
  endpointId: string,
  filter: { eventId?: string; limit: number; after?: string },
) {
  if (!(await store.findEndpoint(deps.db, tenantId, endpointId))) throw notFound("Webhook endpoint");
  return store.listDeliveries(deps.db, tenantId, endpointId, filter);
}
