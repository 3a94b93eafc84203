import Koa from "koa";
import Router from "@koa/router";
import { bodyParser } from "@koa/bodyparser";
import type { Deps } from "./deps.js";
import type { RequestState } from "./http/context.js";
import { requestContext } from "./http/request-context.js";
import { problemJson } from "./http/errors.js";
import { consoleAssets } from "./http/console-assets.js";
import { unregisteredOperations } from "./http/route.js";
import { healthRoutes } from "./routes/health.js";
import { adminRoutes } from "./routes/admin.js";
import { apiKeyRoutes } from "./routes/api-keys.js";
import { sessionRoutes } from "./routes/sessions.js";
import { appRoutes } from "./routes/apps.js";
import { numberRoutes } from "./routes/numbers.js";
import { poolRoutes } from "./routes/pools.js";
import { vobizRoutes } from "./routes/vobiz.js";
import { callRoutes } from "./routes/calls.js";
import { settingsRoutes } from "./routes/settings.js";
import { eventRoutes, webhookEndpointRoutes } from "./routes/events.js";
import { vobizFlowRoutes } from "./routes/vobiz-flows.js";
import { recordingRoutes } from "./routes/recordings.js";
import { privacyRoutes } from "./routes/privacy.js";
import { metricsRoutes } from "./routes/metrics.js";
import { auditRoutes } from "./routes/audit.js";
import { docsRoutes } from "./routes/docs.js";
import { consoleRoutes } from "./routes/console.js";
import { usageRoutes } from "./routes/usage.js";

export const BODY_LIMIT = "64kb";

export function buildRouter(deps: Deps): Router<RequestState> {
  const router = new Router<RequestState>();
  healthRoutes(router, deps);
  adminRoutes(router, deps);
  apiKeyRoutes(router, deps);
  sessionRoutes(router, deps);
  appRoutes(router, deps);
  numberRoutes(router, deps);
  poolRoutes(router, deps);
  vobizRoutes(router, deps);
  vobizFlowRoutes(router, deps);
  recordingRoutes(router, deps);
  privacyRoutes(router, deps);
  metricsRoutes(router, deps);
  callRoutes(router, deps);
  settingsRoutes(router, deps);
  eventRoutes(router, deps);
  webhookEndpointRoutes(router, deps);
  auditRoutes(router, deps);
  docsRoutes(router);
  consoleRoutes(router, deps);
  usageRoutes(router, deps);
  // Routes register by operationId (http/route.ts), so a spec operation without a handler would otherwise only show
  // up as a 404 in production; refusing to build the router stops the server at startup instead.
  const missing = unregisteredOperations(router);
  if (missing.length) throw new Error(`operations in the OpenAPI document without a route: ${missing.join(", ")}`);
  return router;
}

export function createApp(deps: Deps): Koa<RequestState> {
  // Behind a proxy, trust only the hop next to us (maxIpsCount 1): entries further left are the client's to invent.
  const app = new Koa<RequestState>({ proxy: deps.config.trustProxy, maxIpsCount: 1 });
  const router = buildRouter(deps);
  // Errors are answered by problemJson; Koa's own handler would only log them a second time.
  app.silent = true;
  app.use(requestContext(deps.logger, deps.load, deps.metrics));
  app.use(problemJson);
  // The web console's files, before any body parsing: they are only ever read.
  app.use(consoleAssets(deps));
  // The carrier posts forms; the API takes JSON. Each side parses only its own kind, so a stray JSON body at a
  // webhook is ignored (and answered in XML) instead of failing as a JSON error.
  // Compressed bodies (Content-Encoding gzip, deflate or br) are accepted on both, as HTTP allows: co-body inflates
  // them and BODY_LIMIT applies to the inflated size, so a small compressed body cannot expand past it. A body that
  // does not inflate is a 400 and any other encoding a 415 (both mapped in fromLibraryError, for every route).
  const apiBody = bodyParser({ enableTypes: ["json"], jsonLimit: BODY_LIMIT, jsonStrict: true, encoding: "utf-8" });
  const webhookBody = bodyParser({ enableTypes: ["form"], formLimit: BODY_LIMIT, encoding: "utf-8" });
  app.use((ctx, next) => (ctx.path.startsWith("/v1/vobiz/") ? webhookBody(ctx, next) : apiBody(ctx, next)));
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: true }));
  return app;
}
