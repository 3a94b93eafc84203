import type Router from "@koa/router";
import type { Deps } from "../deps.js";
import { tenantIdOf, type RequestState } from "../http/context.js";
import { route } from "../http/route.js";
import { storeResult } from "../http/idempotency.js";
import { decodeCursor, toPage } from "../http/pagination.js";
import * as apps from "../services/apps.js";

export function appRoutes(router: Router<RequestState>, deps: Deps) {
  route(router, deps, "apps.create", async (ctx, { body }) => ({
    status: 201,
    body: await apps.createApp(deps, tenantIdOf(ctx), body, storeResult(ctx, 201)),
  }));

  route(router, deps, "apps.list", async (ctx, { query }) => {
    const limit = query.limit;
    const rows = await apps.listApps(deps, tenantIdOf(ctx), { limit, after: decodeCursor(query.cursor) });
    return { status: 200, body: toPage(rows, limit, (row) => apps.toApp(row, deps.config.publicBaseUrl)) };
  });

  route(router, deps, "apps.get", async (ctx, { path }) => ({
    status: 200,
    body: await apps.getApp(deps, tenantIdOf(ctx), path.id),
  }));

  route(router, deps, "apps.update", async (ctx, { path, body }) => ({
    status: 200,
    body: await apps.updateApp(deps, tenantIdOf(ctx), path.id, body),
  }));
}
