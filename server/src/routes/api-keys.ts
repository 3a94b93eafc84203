import type Router from "@koa/router";
import type { Deps } from "../deps.js";
import { tenantIdOf, type RequestState } from "../http/context.js";
import { route } from "../http/route.js";
import { storeResult } from "../http/idempotency.js";
import { decodeCursor, toPage } from "../http/pagination.js";
import * as apiKeys from "../services/api-keys.js";

export function apiKeyRoutes(router: Router<RequestState>, deps: Deps) {
  route(router, deps, "apiKeys.list", async (ctx, { query }) => {
    const limit = query.limit;
    const rows = await apiKeys.listApiKeys(deps, tenantIdOf(ctx), { limit, after: decodeCursor(query.cursor) });
    return { status: 200, body: toPage(rows, limit, apiKeys.toApiKey) };
  });

  route(router, deps, "apiKeys.create", async (ctx, { body }) => ({
    status: 201,
    body: await apiKeys.createApiKey(deps, tenantIdOf(ctx), body ?? {}, storeResult(ctx, 201)),
  }));

  route(router, deps, "apiKeys.delete", async (ctx, { path }) => {
    await apiKeys.revokeApiKey(deps, tenantIdOf(ctx), path.id);
    return { status: 204 };
  });
}
