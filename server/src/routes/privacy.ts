import type Router from "@koa/router";
import type { Deps } from "../deps.js";
import { tenantIdOf, type RequestState } from "../http/context.js";
import { route } from "../http/route.js";
import { storeResult } from "../http/idempotency.js";
import { decodeCursor, toPage } from "../http/pagination.js";
import * as erasures from "../services/erasures.js";
import * as exports from "../services/exports.js";
import { keyRotationStatus } from "../services/key-rotation.js";

export function privacyRoutes(router: Router<RequestState>, deps: Deps) {
  route(router, deps, "erasures.create", async (ctx, { body }) => ({
    status: 202,
    body: await erasures.requestErasure(deps, tenantIdOf(ctx), body, storeResult(ctx, 202)),
  }));

  route(router, deps, "erasures.list", async (ctx, { query }) => {
    const limit = query.limit;
    const rows = await erasures.listErasures(deps, tenantIdOf(ctx), { limit, after: decodeCursor(query.cursor) });
    return { status: 200, body: toPage(rows, limit, erasures.toErasure) };
  });

  route(router, deps, "erasures.get", async (ctx, { path }) => ({
    status: 200,
    body: await erasures.getErasure(deps, tenantIdOf(ctx), path.id),
  }));

  route(router, deps, "exports.create", async (ctx, { body }) => ({
    status: 202,
    body: await exports.requestExport(deps, tenantIdOf(ctx), body, storeResult(ctx, 202)),
  }));

  route(router, deps, "exports.get", async (ctx, { path }) => ({
    status: 200,
    body: await exports.getExport(deps, tenantIdOf(ctx), path.id),
  }));

  route(router, deps, "admin.keyRotation.get", async () => ({ status: 200, body: await keyRotationStatus(deps) }));
}
