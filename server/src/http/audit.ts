/**
 * The audit trail of the API (docs/audit-log.md): every operation the spec marks with `x-audit` (AUDITED_OPERATIONS,
 * generated from openapi.yaml; `pnpm gen` fails on a change without one) gets this middleware from route(), just in
 * front of its handler, so one row is written per request whose handler succeeded.
 *
 * When: after the handler returned a 2xx, that is after its change committed. A request that failed (4xx/5xx,
 * validation, authentication) wrote nothing and is not recorded. An idempotent replay is answered by the idempotency
 * middleware, which sits outside this one, and never reaches it: one change, one row.
 *
 * The trade-off: the row is not in the change's own transaction (that would mean threading it through every
 * service), so a crash, or Postgres failing, between the commit and this insert loses the row while the change
 * stands. A failed insert is logged as an error naming the operation and the request id (the operator can match it
 * with the request log line), and the client still gets its answer: refusing a change that has already happened
 * would only make the client retry it. In return the write costs the request one single-row insert after the fact and
 * no service knows about auditing.
 *
 * What a row holds, and where each value comes from (never a request body: no number, no secret, no metadata):
 *   - tenant: the API key's tenant; for the operator, the affected tenant: admin.tenants.create's created tenant
 *     (from the response), otherwise the path's `tenantId` (admin.apiKeys.create).
 *   - actor: the API key id that authenticated the request, or `operator` (the admin token names no one more precisely).
 *   - resource id: RESOURCE_ID below: by default the `id` of the resource the response returns (the thing created,
 *     updated or placed), else the path's `id` (a delete, a rotation, a redelivery); the exceptions are named there.
 *   - ip: ctx.ip: the socket's peer, or with MASKLINE_TRUST_PROXY the address the one proxy in front saw (the last
 *     X-Forwarded-For entry; the entries before it are the client's to invent, so they are never read).
 *   - request id: the request's (ctx.state.requestId, echoed as X-Request-Id), masked like a log field if a caller
 *     sent a phone-shaped X-Request-Id.
 */
import type { Next } from "koa";
import { AUDITED_OPERATIONS } from "@maskline/openapi/constants";
import type { Deps } from "../deps.js";
import { redactField, redactPhoneNumbers } from "../logging/redact.js";
import { recordAuditEvent, type AuditActor, type AuditRecord } from "../services/audit.js";
import type { AppContext } from "./context.js";
import type { OperationId, OperationSpec } from "./openapi.js";

export type AuditedOperationId = keyof typeof AUDITED_OPERATIONS & OperationId;

export function isAudited(id: OperationId): id is AuditedOperationId {
  return Object.hasOwn(AUDITED_OPERATIONS, id);
}

/** A string at `keys` inside a parsed JSON value, or null. */
function stringAt(value: unknown, ...keys: string[]): string | null {
  let node = value;
  for (const key of keys) {
    if (typeof node !== "object" || node === null || Array.isArray(node)) return null;
    node = (node as Record<string, unknown>)[key];
  }
  return typeof node === "string" && node !== "" ? node : null;
}

type ResourceIdRule = (path: Record<string, unknown>, responseBody: unknown) => string | null;

/** The default: the returned resource's id (a create, an update, a placed call), else the path's (a delete). */
const returnedOrPathId: ResourceIdRule = (path, body) => stringAt(body, "id") ?? stringAt(path, "id");

/**
 * Where an operation's resource id is not the default. Keyed by the audited operations, so a name that stops being
 * one fails the type check.
 */
const RESOURCE_ID: Partial<Record<AuditedOperationId, ResourceIdRule>> = {
  // The response is { tenant, apiKey }: the resource is the tenant.
  "admin.tenants.create": (_path, body) => stringAt(body, "tenant", "id"),
  // A pool is named, not numbered: the name, from the imported numbers the response lists (never the request body).
  // A tenant may name a pool with digits only; a name that looks like a phone number is kept masked.
  "numbers.create": (_path, body) => {
    const data = typeof body === "object" && body !== null ? (body as { data?: unknown }).data : undefined;
    const pool = Array.isArray(data) ? stringAt(data[0], "pool") : null;
    return pool === null ? null : redactPhoneNumbers(pool);
  },
  // The tenant's settings are one thing with no id of its own (the event's tenant names it).
  "settings.update": () => null,
};

function actorOf(ctx: AppContext): AuditActor | null {
  const principal = ctx.state.principal;
  const via = principal?.consoleSessionId ? { consoleSessionId: principal.consoleSessionId } : {};
  if (principal?.kind === "tenant") return { type: "api_key", apiKeyId: principal.apiKeyId, ...via };
  if (principal?.kind === "admin") return { type: "operator", ...via };
  return null;
}

/**
 * The operator's own console sign-in and sign-out touch no tenant, and the audit log is each tenant's: they are not
 * recorded there (the request log line, with its request id, is their record). A tenant's are recorded like any change.
 */
const OPERATOR_WIDE: ReadonlySet<AuditedOperationId> = new Set(["console.signIn", "console.signOut"]);

function tenantOf(ctx: AppContext, id: AuditedOperationId, path: Record<string, unknown>, body: unknown): string | null {
  const principal = ctx.state.principal;
  if (principal?.kind === "tenant") return principal.tenantId;
  if (id === "admin.tenants.create") return stringAt(body, "tenant", "id");
  return stringAt(path, "tenantId");
}

/** The audit middleware of an audited operation (route() puts it just in front of the handler); null for others. */
export function auditTrail(deps: Pick<Deps, "db" | "clock">, op: OperationSpec) {
  const id = op.id;
  if (!isAudited(id)) return null;
  const { action, resource } = AUDITED_OPERATIONS[id];
  const resourceIdOf = RESOURCE_ID[id] ?? returnedOrPathId;
  return async function auditMiddleware(ctx: AppContext, next: Next) {
    await next();
    if (ctx.status < 200 || ctx.status >= 300) return;
    const requestId = ctx.state.requestId;
    const path = ctx.state.input?.path ?? {};
    if (ctx.state.principal?.kind === "admin" && OPERATOR_WIDE.has(id)) return;
    const tenantId = tenantOf(ctx, id, path, ctx.body);
    const actor = actorOf(ctx);
    try {
      if (tenantId === null || actor === null) throw new Error("the audit event names no tenant or no actor");
      const record: AuditRecord = {
        tenantId,
        actor,
        action,
        resourceType: resource,
        // A sign-out returns nothing and names nothing in its path: its resource is the session the cookie named.
        resourceId: id === "console.signOut" ? (ctx.state.consoleSession?.sessionId ?? null) : resourceIdOf(path, ctx.body),
        ip: ctx.ip || null,
        requestId: String(redactField("requestId", requestId)),
      };
      await recordAuditEvent(deps, record);
    } catch (err) {
      // The change stands and the client gets its answer (see above); the operator gets this line. Never the body.
      ctx.state.log.error({ err, operation: id, requestId }, "audit event not written");
    }
  };
}
