import type Router from "@koa/router";
import type { Deps } from "../deps.js";
import { tenantIdOf, type RequestState } from "../http/context.js";
import { route } from "../http/route.js";
import { settlingResult, storeResult } from "../http/idempotency.js";
import { decodeCursor, toPage } from "../http/pagination.js";
import * as sessions from "../services/sessions.js";
import { placeSessionCall } from "../services/placed-calls.js";

export function sessionRoutes(router: Router<RequestState>, deps: Deps) {
  route(router, deps, "sessions.create", async (ctx, { body }) => ({
    status: 201,
    body: await sessions.createSession(deps, tenantIdOf(ctx), body, storeResult(ctx, 201)),
  }));

  route(router, deps, "sessions.list", async (ctx, { query }) => {
    const limit = query.limit;
    const { rows, shape } = await sessions.listSessions(deps, tenantIdOf(ctx), {
      limit,
      after: decodeCursor(query.cursor),
      status: query.status,
      reference: query.reference,
      pool: query.pool,
    });
    return { status: 200, body: toPage(rows, limit, shape) };
  });

  route(router, deps, "sessions.get", async (ctx, { path }) => ({
    status: 200,
    body: await sessions.getSession(deps, tenantIdOf(ctx), path.id),
  }));

  route(router, deps, "sessions.update", async (ctx, { path, body }) => ({
    status: 200,
    body: await sessions.updateSession(deps, tenantIdOf(ctx), path.id, body),
  }));

  route(router, deps, "sessions.close", async (ctx, { path }) => ({
    status: 200,
    body: await sessions.closeSession(deps, tenantIdOf(ctx), path.id, storeResult(ctx, 200)),
  }));

  route(router, deps, "sessions.placeCall", async (ctx, { path, body }) => ({
    status: 202,
    body: await placeSessionCall(deps, tenantIdOf(ctx), path.id, body, settlingResult(ctx, 202)),
  }));
}
