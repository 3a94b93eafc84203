import type Router from "@koa/router";
import type { Deps } from "../deps.js";
import type { AppContext, RequestState } from "../http/context.js";
import { rawRoute } from "../http/route.js";
import { checkMetricsAccess } from "../http/auth.js";
import { renderMetrics } from "../services/metrics.js";

/**
 * `GET /metrics` for Prometheus, behind the metrics token when one is set (http/auth.ts, checkMetricsAccess); a
 * raw route because its answer is Prometheus text, not JSON.
 */
export function metricsRoutes(router: Router<RequestState>, deps: Deps) {
  rawRoute(router, "metrics.get", async (ctx: AppContext) => {
    checkMetricsAccess(ctx, deps.config.metricsAccess);
    const { contentType, text } = await renderMetrics(deps);
    ctx.status = 200;
    ctx.type = contentType;
    ctx.set("Cache-Control", "no-store");
    ctx.body = text;
  });
}
