import type Router from "@koa/router";
import type { Deps } from "../deps.js";
import { tenantIdOf, type RequestState } from "../http/context.js";
import { route } from "../http/route.js";
import * as tenants from "../services/tenants.js";

export function settingsRoutes(router: Router<RequestState>, deps: Deps) {
  route(router, deps, "settings.get", async (ctx) => ({
    status: 200,
    body: await tenants.getSettings(deps, tenantIdOf(ctx)),
  }));

  route(router, deps, "settings.update", async (ctx, { body }) => ({
    status: 200,
    body: await tenants.updateSettings(deps, tenantIdOf(ctx), body),
  }));
}
