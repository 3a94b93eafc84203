import type Router from "@koa/router";
import type { Deps } from "../deps.js";
import { tenantIdOf, type RequestState } from "../http/context.js";
import { route } from "../http/route.js";
import { getUsage } from "../services/usage.js";
import { requireTenant } from "../services/tenants.js";

export function usageRoutes(router: Router<RequestState>, deps: Deps) {
  route(router, deps, "usage.get", async (ctx, { query }) => ({
    status: 200,
    body: await getUsage(deps, tenantIdOf(ctx), query.since),
  }));

  route(router, deps, "admin.tenants.usage", async (_ctx, { path, query }) => {
    await requireTenant(deps, path.tenantId);
    return { status: 200, body: await getUsage(deps, path.tenantId, query.since) };
  });
}
