import type Router from "@koa/router";
import type { Deps } from "../deps.js";
import { tenantIdOf, type RequestState } from "../http/context.js";
import { route } from "../http/route.js";
import { decodeCursor, toPage } from "../http/pagination.js";
import * as events from "../services/events.js";
import * as endpoints from "../services/webhook-endpoints.js";

export function eventRoutes(router: Router<RequestState>, deps: Deps) {
  route(router, deps, "webhooks.jwks", async (ctx) => {
    // Public keys only; receivers cache them and refetch on an unknown key id.
    ctx.set("Cache-Control", "public, max-age=300");
    return { status: 200, body: { keys: [...deps.signingKeys.jwks.keys] } };
  });

  route(router, deps, "events.list", async (ctx, { query }) => {
    const limit = query.limit;
    const rows = await events.listEvents(deps, tenantIdOf(ctx), { limit, after: decodeCursor(query.cursor), type: query.type });
    return { status: 200, body: toPage(rows, limit, events.toEvent) };
  });

  route(router, deps, "events.get", async (ctx, { path }) => ({
    status: 200,
    body: await events.getEvent(deps, tenantIdOf(ctx), path.id),
  }));

  route(router, deps, "events.redeliver", async (ctx, { path }) => ({
    status: 202,
    body: await events.redeliverEvent(deps, tenantIdOf(ctx), path.id),
  }));
}

export function webhookEndpointRoutes(router: Router<RequestState>, deps: Deps) {
  route(router, deps, "webhookEndpoints.create", async (ctx, { body }) => ({
    status: 201,
    body: await endpoints.createEndpoint(deps, tenantIdOf(ctx), body),
  }));

  route(router, deps, "webhookEndpoints.list", async (ctx, { query }) => {
    const limit = query.limit;
    const rows = await endpoints.listEndpoints(deps, tenantIdOf(ctx), { limit, after: decodeCursor(query.cursor) });
    return { status: 200, body: toPage(rows, limit, endpoints.toEndpoint) };
  });

  route(router, deps, "webhookEndpoints.get", async (ctx, { path }) => ({
    status: 200,
    body: await endpoints.getEndpoint(deps, tenantIdOf(ctx), path.id),
  }));

  route(router, deps, "webhookEndpoints.update", async (ctx, { path, body }) => ({
    status: 200,
    body: await endpoints.updateEndpoint(deps, tenantIdOf(ctx), path.id, body),
  }));

  route(router, deps, "webhookEndpoints.delete", async (ctx, { path }) => {
    await endpoints.deleteEndpoint(deps, tenantIdOf(ctx), path.id);
    return { status: 204 };
  });

  route(router, deps, "webhookEndpoints.rotateSecret", async (ctx, { path }) => ({
    status: 200,
    body: await endpoints.rotateSecret(deps, tenantIdOf(ctx), path.id),
  }));

  route(router, deps, "webhookEndpoints.listDeliveries", async (ctx, { path, query }) => {
    const limit = query.limit;
    const rows = await endpoints.listDeliveries(deps, tenantIdOf(ctx), path.id, {
      limit,
      after: decodeCursor(query.cursor),
      eventId: query.eventId,
    });
    return { status: 200, body: toPage(rows, limit, endpoints.toDelivery) };
  });
}
