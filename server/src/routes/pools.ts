import type Router from "@koa/router";
import type { Deps } from "../deps.js";
import { tenantIdOf, type RequestState } from "../http/context.js";
import { route } from "../http/route.js";
import * as pools from "../services/pools.js";

export function poolRoutes(router: Router<RequestState>, deps: Deps) {
  route(router, deps, "pools.list", async (ctx) => ({
    status: 200,
    body: await pools.listPools(deps, tenantIdOf(ctx)),
  }));

  route(router, deps, "pools.get", async (ctx, { path }) => ({
    status: 200,
    body: await pools.getPool(deps, tenantIdOf(ctx), path.pool),
  }));
}
