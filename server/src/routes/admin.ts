import type Router from "@koa/router";
import type { Deps } from "../deps.js";
import type { RequestState } from "../http/context.js";
import { route } from "../http/route.js";
import { storeResult } from "../http/idempotency.js";
import { decodeCursor, toPage } from "../http/pagination.js";
import * as tenants from "../services/tenants.js";
import { createApiKey, listApiKeys, revokeApiKey, toApiKey } from "../services/api-keys.js";

export function adminRoutes(router: Router<RequestState>, deps: Deps) {
  route(router, deps, "admin.tenants.create", async (ctx, { body }) => ({
    status: 201,
    body: await tenants.createTenant(deps, body, storeResult(ctx, 201)),
  }));

  route(router, deps, "admin.tenants.list", async (_ctx, { query }) => {
    const limit = query.limit;
    const rows = await tenants.listTenants(deps, { limit, after: decodeCursor(query.cursor) });
    return { status: 200, body: toPage(rows, limit, tenants.toTenant) };
  });

  route(router, deps, "admin.apiKeys.create", async (ctx, { path, body }) => {
    await tenants.requireTenant(deps, path.tenantId);
    return { status: 201, body: await createApiKey(deps, path.tenantId, body ?? {}, storeResult(ctx, 201)) };
  });

  route(router, deps, "admin.apiKeys.list", async (_ctx, { path, query }) => {
    await tenants.requireTenant(deps, path.tenantId);
    const limit = query.limit;
    const rows = await listApiKeys(deps, path.tenantId, { limit, after: decodeCursor(query.cursor) });
    return { status: 200, body: toPage(rows, limit, toApiKey) };
  });

  route(router, deps, "admin.apiKeys.delete", async (_ctx, { path }) => {
    await tenants.requireTenant(deps, path.tenantId);
    await revokeApiKey(deps, path.tenantId, path.id);
    return { status: 204 };
  });
}
