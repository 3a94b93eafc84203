import type Router from "@koa/router";
import type { Deps } from "../deps.js";
import { tenantIdOf, type RequestState } from "../http/context.js";
import { route } from "../http/route.js";
import { decodeCursor, toPage } from "../http/pagination.js";
import * as audit from "../services/audit.js";

/** The audit log (docs/audit-log.md): the tenant's own trail, and the operator's across tenants. Read-only. */
export function auditRoutes(router: Router<RequestState>, deps: Deps) {
  route(router, deps, "auditEvents.list", async (ctx, { query }) => {
    const limit = query.limit;
    const rows = await audit.listAuditEvents(deps, tenantIdOf(ctx), {
      limit,
      after: decodeCursor(query.cursor),
      action: query.action,
      resourceId: query.resourceId,
    });
    return { status: 200, body: toPage(rows, limit, audit.toAuditEvent) };
  });

  route(router, deps, "admin.auditEvents.list", async (_ctx, { query }) => {
    const limit = query.limit;
    const rows = await audit.listAuditEventsAcrossTenants(deps, {
      limit,
      after: decodeCursor(query.cursor),
      tenantId: query.tenantId,
      action: query.action,
    });
    return { status: 200, body: toPage(rows, limit, audit.toAuditEvent) };
  });
}
