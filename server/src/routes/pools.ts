import type Router from "@koa/router";
import type { Deps } from "../deps.js";
import { tenantIdOf, type RequestState } from "../http/context.js";
import { route } from "../http/route.js";
import { decodeCursor, toPageBy } from "../http/pagination.js";
import * as pools from "../services/pools.js";

export function poolRoutes(router: Router<RequestState>, deps: Deps) {
  route(router, deps, "pools.list", async (ctx, { query }) => {
    const limit = query.limit;
    const { rows, shape } = await pools.listPools(deps, tenantIdOf(ctx), { limit, after: decodeCursor(query.cursor) });
    return { status: 200, body: toPageBy(rows, limit, (row) => row.pool, shape) };
  });

  route(router, deps, "pools.get", async (ctx, { path }) => ({
    status: 200,
    body: await pools.getPool(deps, tenantIdOf(ctx), path.pool),
  }));
}
