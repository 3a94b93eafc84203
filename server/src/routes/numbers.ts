import type Router from "@koa/router";
import type { Deps } from "../deps.js";
import { tenantIdOf, type RequestState } from "../http/context.js";
import { route } from "../http/route.js";
import { storeResult } from "../http/idempotency.js";
import { decodeCursor, toPage } from "../http/pagination.js";
import * as numbers from "../services/numbers.js";

export function numberRoutes(router: Router<RequestState>, deps: Deps) {
  route(router, deps, "numbers.create", async (ctx, { body }) => ({
    status: 201,
    body: await numbers.importNumbers(deps, tenantIdOf(ctx), body, storeResult(ctx, 201)),
  }));

  route(router, deps, "numbers.list", async (ctx, { query }) => {
    const limit = query.limit;
    const rows = await numbers.listNumbers(deps, tenantIdOf(ctx), {
      limit,
      after: decodeCursor(query.cursor),
      pool: query.pool,
      appId: query.appId,
      status: query.status,
    });
    return { status: 200, body: toPage(rows, limit, numbers.toNumber) };
  });

  route(router, deps, "numbers.get", async (ctx, { path }) => ({
    status: 200,
    body: await numbers.getNumber(deps, tenantIdOf(ctx), path.id),
  }));

  route(router, deps, "numbers.delete", async (ctx, { path }) => {
    await numbers.releaseNumber(deps, tenantIdOf(ctx), path.id);
    return { status: 204 };
  });
}
