import type { Deps } from "../deps.js";
import { notFound } from "../errors.js";
import { newId } from "../crypto/ids.js";
import { generateToken } from "../crypto/tokens.js";
import { webhookUrls } from "../domain/webhook-urls.js";
import * as store from "../stores/apps.js";
import type { AppRow } from "../stores/apps.js";
import type { PageRequest } from "../domain/pagination.js";
import type { StoreResult } from "./idempotency.js";
import { SCHEMA_DEFAULTS, SCHEMA_PROPERTIES } from "@maskline/openapi/constants";
import { iso, isoOrNull, type Schemas } from "./shapes.js";

const URL_SECRET_BYTES = 24;
// Request validation has already filled these in from the spec; its input type cannot say so, hence the fallbacks.
const CREATE_DEFAULTS = SCHEMA_DEFAULTS.CreateAppRequest;

type AppMessages = Schemas["AppMessages"];

/** Only the message fields a tenant set: unset ones fall back to the defaults at call time. */
function messagesOf(stored: Record<string, string> | null | undefined): AppMessages {
  const out: Record<string, string> = {};
  for (const key of SCHEMA_PROPERTIES.AppMessages) {
    const value = stored?.[key];
    if (typeof value === "string") out[key] = value;
  }
  return out as AppMessages;
}

/** The App on the wire. The auth token (encrypted at rest) is never part of it. */
export function toApp(row: AppRow, publicBaseUrl: string): Schemas["App"] {
  return {
    id: row.id,
    name: row.name,
    vobizAuthId: row.vobiz_auth_id,
    signatureRequired: row.signature_required,
    defaultCountry: row.default_country,
    ringTimeoutSeconds: row.ring_timeout_seconds,
    maxCallSeconds: row.max_call_seconds,
    recordCalls: row.record_calls,
    messages: messagesOf(row.messages),
    ...webhookUrls(publicBaseUrl, row.id, row.url_secret),
    lastSignedRequestAt: isoOrNull(row.last_signed_request_at),
    createdAt: iso(row.created_at),
  };
}

const SIGNED_REQUEST_RESOLUTION_MS = 60_000;
const MAX_NOTED_APPS = 10_000;
/** When this replica last recorded a signed request per app: keeps the write to about one a minute per app. */
const lastNoted = new Map<string, number>();

/**
 * A carrier request with a valid signature arrived for the app (GET /v1/apps shows when, so a tenant can tell its
 * URLs are pasted right). Bookkeeping off the call's path: never awaited, a lost write only makes it a minute staler.
 */
export function noteSignedRequest(deps: Pick<Deps, "db" | "clock" | "logger">, app: { tenant_id: string; id: string }): void {
  const now = deps.clock.now();
  const last = lastNoted.get(app.id);
  if (last !== undefined && now.getTime() - last <= SIGNED_REQUEST_RESOLUTION_MS) return;
  if (lastNoted.size >= MAX_NOTED_APPS) lastNoted.clear();
  lastNoted.set(app.id, now.getTime());
  store
    .touchSignedRequest(deps.db, app.tenant_id, app.id, now, SIGNED_REQUEST_RESOLUTION_MS)
    .catch((err: unknown) => deps.logger.warn({ err }, "recording an app's last signed request failed"));
}

export async function createApp(
  deps: Pick<Deps, "db" | "keys" | "config">,
  tenantId: string,
  input: Schemas["CreateAppRequest"],
  storeResult?: StoreResult<Schemas["App"]>,
): Promise<Schemas["App"]> {
  return deps.db.transaction(async (trx) => {
    const row = await store.insertApp(trx, {
      id: newId("app"),
      tenant_id: tenantId,
      name: input.name,
      vobiz_auth_id: input.vobizAuthId,
      auth_token_enc: deps.keys.encrypt(input.vobizAuthToken),
      signature_required: input.signatureRequired ?? CREATE_DEFAULTS.signatureRequired,
      default_country: input.defaultCountry ?? CREATE_DEFAULTS.defaultCountry,
      ring_timeout_seconds: input.ringTimeoutSeconds ?? CREATE_DEFAULTS.ringTimeoutSeconds,
      max_call_seconds: input.maxCallSeconds ?? CREATE_DEFAULTS.maxCallSeconds,
      record_calls: input.recordCalls ?? CREATE_DEFAULTS.recordCalls,
      messages: messagesOf(input.messages),
      url_secret: generateToken(URL_SECRET_BYTES),
    });
    const app = toApp(row, deps.config.publicBaseUrl);
    await storeResult?.(trx, app);
    return app;
  });
}

export async function listApps(deps: Pick<Deps, "db">, tenantId: string, page: PageRequest) {
  return store.listApps(deps.db, tenantId, page);
}

export async function getApp(deps: Pick<Deps, "db" | "config">, tenantId: string, id: string): Promise<Schemas["App"]> {
  const row = await store.findApp(deps.db, tenantId, id);
  if (!row) throw notFound("App");
  return toApp(row, deps.config.publicBaseUrl);
}

/** Changes any field; a new `vobizAuthToken` is re-encrypted, `messages` replaces the whole object. */
export async function updateApp(
  deps: Pick<Deps, "db" | "keys" | "config" | "appCache" | "logger">,
  tenantId: string,
  id: string,
  input: Schemas["UpdateAppRequest"],
): Promise<Schemas["App"]> {
  const patch: Partial<AppRow> = {};
  if (input.name !== undefined) patch.name = input.name;
  if (input.vobizAuthId !== undefined) patch.vobiz_auth_id = input.vobizAuthId;
  if (input.vobizAuthToken !== undefined) patch.auth_token_enc = deps.keys.encrypt(input.vobizAuthToken);
  if (input.signatureRequired !== undefined) patch.signature_required = input.signatureRequired;
  if (input.defaultCountry !== undefined) patch.default_country = input.defaultCountry;
  if (input.ringTimeoutSeconds !== undefined) patch.ring_timeout_seconds = input.ringTimeoutSeconds;
  if (input.maxCallSeconds !== undefined) patch.max_call_seconds = input.maxCallSeconds;
  if (input.recordCalls !== undefined) patch.record_calls = input.recordCalls;
  if (input.messages !== undefined) patch.messages = messagesOf(input.messages);
  const row = await store.updateApp(deps.db, tenantId, id, patch);
  if (!row) throw notFound("App");
  // Webhooks read apps from memory: every replica must drop this one now (a new token, a switched signature).
  // A kv outage must not turn a committed change into an error: the cache's short TTL bounds the staleness.
  await deps.appCache.invalidate(id).catch((err: unknown) => deps.logger.warn({ err, appId: id }, "app cache notice not sent"));
  return toApp(row, deps.config.publicBaseUrl);
}
