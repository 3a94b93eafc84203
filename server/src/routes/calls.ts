import type Router from "@koa/router";
import type { Deps } from "../deps.js";
import { tenantIdOf, type RequestState } from "../http/context.js";
import { route } from "../http/route.js";
import { decodeCursor, toPage } from "../http/pagination.js";
import * as calls from "../services/calls.js";

export function callRoutes(router: Router<RequestState>, deps: Deps) {
  route(router, deps, "calls.list", async (ctx, { query }) => {
    const limit = query.limit;
    const rows = await calls.listCalls(deps, tenantIdOf(ctx), {
      limit,
      after: decodeCursor(query.cursor),
      sessionId: query.sessionId,
      decision: query.decision,
      since: query.since,
      until: query.until,
    });
    return { status: 200, body: toPage(rows, limit, calls.toCall) };
  });

  route(router, deps, "calls.get", async (ctx, { path }) => ({
    status: 200,
    body: await calls.getCall(deps, tenantIdOf(ctx), path.id),
  }));
}
