import type Router from "@koa/router";
import type { Deps } from "../deps.js";
import { AppError } from "../errors.js";
import type { RequestState } from "../http/context.js";
import { route } from "../http/route.js";

export function healthRoutes(router: Router<RequestState>, deps: Deps) {
  route(router, deps, "health.live", async () => ({ status: 200, body: { status: "ok" as const } }));
  route(router, deps, "health.ready", async (ctx) => {
    try {
      await deps.db.raw("select 1");
    } catch (err) {
      ctx.state.log.warn({ err }, "readiness: database unreachable");
      throw new AppError("unavailable", "The database is unreachable.");
    }
    return { status: 200, body: { status: "ok" as const } };
  });
}
