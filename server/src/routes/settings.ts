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

  route(router, deps, "settings.update", async (ctx, { body }) => {
    const settings = await tenants.updateSettings(deps, tenantIdOf(ctx), body);
    // An audit line: retention decides when personal data is deleted, so which key changed it, and to what, is kept.
    const principal = ctx.state.principal;
    const apiKeyId = principal?.kind === "tenant" ? principal.apiKeyId : undefined;
    ctx.state.log.info({ apiKeyId, settings }, "tenant settings changed");
    return { status: 200, body: settings };
  });
}
