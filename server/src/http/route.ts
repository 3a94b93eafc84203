import type Router from "@koa/router";
import type { Middleware, Next } from "koa";
import type { operations } from "@maskline/openapi/schema";
import type { Deps } from "../deps.js";
import { AppError, validationFailed } from "../errors.js";
import type { AppContext, RequestState } from "./context.js";
import { operationsById, type OperationId, type OperationSpec, type WithQueryDefaults } from "./openapi.js";
import { requireAdmin, requireApiKey } from "./auth.js";
import { requireConsoleSession } from "./console-auth.js";
import { tenantRateLimit } from "./rate-limit.js";
import { idempotency } from "./idempotency.js";
import { unstorableTextErrors } from "./unstorable-text.js";
import { auditTrail, isAudited } from "./audit.js";

type Op<K extends OperationId> = operations[K];
type JsonContent<T> = T extends { content: { "application/json": infer B } } ? B : never;
export type BodyOf<K extends OperationId> = Op<K> extends { requestBody: infer R }
  ? JsonContent<NonNullable<R>>
  : Op<K> extends { requestBody?: infer R }
    ? JsonContent<NonNullable<R>> | undefined
    : undefined;
export type QueryOf<K extends OperationId> = Op<K> extends { parameters: { query?: infer Q } } ? WithQueryDefaults<NonNullable<Q>> : never;
export type PathOf<K extends OperationId> = Op<K> extends { parameters: { path: infer P } } ? P : never;
type Responses<K extends OperationId> = Op<K>["responses"];
export type SuccessStatus<K extends OperationId> = Extract<keyof Responses<K>, 200 | 201 | 202 | 204>;
export type SuccessBody<K extends OperationId, S extends SuccessStatus<K>> = JsonContent<Responses<K>[S]>;

export interface Input<K extends OperationId> {
  path: PathOf<K>;
  query: QueryOf<K>;
  body: BodyOf<K>;
}

export type Reply<K extends OperationId> = {
  [S in SuccessStatus<K>]: S extends 204 ? { status: S } : { status: S; body: SuccessBody<K, S> };
}[SuccessStatus<K>];

export type Handler<K extends OperationId> = (ctx: AppContext, input: Input<K>) => Promise<Reply<K>>;

function validateInput(op: OperationSpec) {
  return async function validate(ctx: AppContext, next: Next) {
    const hasBody = Boolean(ctx.request.length) || ctx.get("transfer-encoding") !== "";
    let body: unknown = undefined;
    // The handler of an operation that declares no body never sees one: a body sent to it anyway is ignored rather
    // than refused, since it cannot change what the operation does.
    if (op.bodyContentType === "application/json") {
      if (hasBody) {
        if (!ctx.is("application/json")) {
          throw new AppError("unsupported_media_type", "Send the request body as application/json.");
        }
        body = (ctx.request as { body?: unknown }).body;
      }
      if (body === undefined && op.bodyRequired) {
        throw validationFailed([{ path: "/body", message: "a JSON body is required" }]);
      }
      if (body === undefined) body = {};
    }
    const path = { ...ctx.params } as Record<string, unknown>;
    const query = { ...ctx.query } as Record<string, unknown>;
    // Before the schema: a NUL or lone surrogate is refused as such, wherever it is, and no handler, store or log
    // line downstream has to cope with one.
    const textErrors = [
      ...unstorableTextErrors("/path", path),
      ...unstorableTextErrors("/query", query),
      ...unstorableTextErrors("/body", body),
    ];
    if (textErrors.length) throw validationFailed(textErrors, "The request contains text that cannot be stored.");
    const errors = [
      ...op.validatePath(path),
      ...op.validateHeaders(ctx.headers as Record<string, unknown>),
      ...op.validateQuery(query),
      ...(op.validateBody && body !== undefined ? op.validateBody(body) : []),
    ];
    if (errors.length) throw validationFailed(errors);
    ctx.state.input = { path, query, body };
    await next();
  };
}

const registries = new WeakMap<object, Set<OperationId>>();

function specFor(router: Router<RequestState>, id: OperationId): OperationSpec {
  const op = operationsById.get(id);
  if (!op) throw new Error(`operation ${id} is not in the OpenAPI document`);
  const registry = registries.get(router) ?? new Set<OperationId>();
  registries.set(router, registry);
  if (registry.has(id)) throw new Error(`operation ${id} registered twice`);
  registry.add(id);
  return op;
}

/**
 * Registers an operation at the method and path the spec gives it, with the spec's authentication,
 * validation and idempotency in front of the handler.
 */
export function route<K extends OperationId>(router: Router<RequestState>, deps: Deps, id: K, handler: Handler<K>) {
  const op = specFor(router, id);
  if (op.security === "metricsToken") throw new Error(`operation ${id} checks its own token: register it with rawRoute()`);
  const chain: Middleware<RequestState>[] = [];
  if (op.security === "apiKey") {
    chain.push(requireApiKey(deps) as Middleware<RequestState>);
    chain.push(tenantRateLimit(deps) as Middleware<RequestState>);
  }
  if (op.security === "adminToken") chain.push(requireAdmin(deps) as Middleware<RequestState>);
  if (op.security === "consoleSession") chain.push(requireConsoleSession(deps) as Middleware<RequestState>);
  chain.push(validateInput(op) as Middleware<RequestState>);
  if (op.method === "post" && op.acceptsIdempotencyKey) chain.push(idempotency(deps, op) as Middleware<RequestState>);
  // After idempotency, so a replay (answered there) is never recorded twice; see http/audit.ts for what is recorded.
  const audit = auditTrail(deps, op);
  if (audit) chain.push(audit as Middleware<RequestState>);
  chain.push((async (ctx: AppContext) => {
    const reply = (await handler(ctx, ctx.state.input as unknown as Input<K>)) as { status: number; body?: unknown };
    ctx.status = reply.status;
    if (reply.status !== 204) ctx.body = reply.body;
  }) as unknown as Middleware<RequestState>);
  router.register(op.routePath, [op.method], chain as never, { name: id });
}

/**
 * For operations that answer something other than JSON (the carrier webhooks): the spec's method and path,
 * and the handler does its own authentication and parsing, because it must answer in the carrier's terms.
 */
export function rawRoute(router: Router<RequestState>, id: OperationId, handler: (ctx: AppContext) => Promise<void>) {
  // The audit trail is route()'s: an operation the spec audits must not bypass it.
  if (isAudited(id)) throw new Error(`operation ${id} is audited (x-audit): register it with route()`);
  const op = specFor(router, id);
  router.register(op.routePath, [op.method], [handler] as never, { name: id });
}

/** Operations in the spec with no handler on this router; buildRouter (app.ts) refuses to build a router with any. */
export function unregisteredOperations(router: Router<RequestState>): OperationId[] {
  const registry = registries.get(router) ?? new Set();
  return [...operationsById.keys()].filter((id) => !registry.has(id));
}
