import type { Next } from "koa";
import type { Deps } from "../deps.js";
import {
  DEFAULT_CLAIM_TIMING,
  acquireIdempotencyKey,
  type IdempotencyRef,
  type SettlingResult,
  type StoreResult,
} from "../services/idempotency.js";
import type { AppContext } from "./context.js";
import type { OperationSpec } from "./openapi.js";

/**
 * For a route to hand its service: stores the service's answer with the status the route sends it with.
 * Undefined when the request has no Idempotency-Key.
 */
export function storeResult<T>(ctx: AppContext, status: number): StoreResult<T> | undefined {
  const claim = ctx.state.idempotencyClaim;
  return claim && ((trx, body, subjects) => claim.complete(trx, status, body, subjects));
}

/** For a route whose service settles its result after committing (see SettlingResult). */
export function settlingResult<T>(ctx: AppContext, status: number): SettlingResult<T> | undefined {
  const claim = ctx.state.idempotencyClaim;
  if (!claim) return undefined;
  return {
    store: (trx, body, subjects) => claim.complete(trx, status, body, subjects),
    async replace(trx, body) {
      if (!(await claim.replace(trx, status, body))) ctx.state.log.warn("idempotent result not replaced: its claim was taken over");
    },
    withdraw: () => claim.withdraw(),
  };
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/**
 * `Idempotency-Key` for every POST the spec gives one. The first request claims the key in Postgres and runs;
 * a concurrent duplicate waits (bounded) for its result; later repeats replay the stored (encrypted) 2xx
 * response. The claim goes to the handler on ctx.state, and the service stores the result inside its own
 * transaction (see storeResult); for an operation that does not, the result is stored here after it. Errors
 * release the claim, so a retry after a failure runs again. Same key, different body: 409.
 */
export function idempotency(deps: Deps, op: OperationSpec) {
  return async function idempotencyMiddleware(ctx: AppContext, next: Next) {
    const key = ctx.get("idempotency-key");
    if (!key) return next();
    const principal = ctx.state.principal;
    const ref: IdempotencyRef = {
      scope: principal?.kind === "tenant" ? principal.tenantId : "admin",
      key,
      operation: `${op.id}:${canonical(ctx.params)}`,
    };
    // Keyed: the body holds real phone numbers, and a plain hash of a mostly-known number is brute-forceable.
    const requestHashes = deps.keys.blindIndexes(canonical(ctx.state.input?.body ?? null));

    const acquired = await acquireIdempotencyKey(deps, ref, requestHashes);
    if ("replay" in acquired) {
      ctx.status = acquired.replay.status;
      ctx.body = acquired.replay.body;
      ctx.set("Idempotent-Replayed", "true");
      return;
    }
    const { claim } = acquired;
    ctx.state.idempotencyClaim = claim;
    // The lease is renewed while this request runs (request-scoped, stopped with it): a retry after a crash waits
    // seconds for a dead claim, never for a live one.
    const renewal = setInterval(() => {
      claim.renew().catch((err: unknown) => ctx.state.log.warn({ err }, "idempotency claim not renewed"));
    }, DEFAULT_CLAIM_TIMING.abandonedAfterMs / 3);
    renewal.unref();
    try {
      await next();
    } catch (err) {
      await claim.release().catch((releaseErr: unknown) => ctx.state.log.warn({ err: releaseErr }, "idempotency claim not released"));
      throw err;
    } finally {
      clearInterval(renewal);
    }
    if (ctx.status < 200 || ctx.status >= 300) {
      await claim.release();
    } else if (!claim.storedInTransaction && !(await claim.completeAfterCommit(ctx.status, ctx.body))) {
      // Only an operation without the in-transaction seam gets here: it committed, and a retry runs it again.
      ctx.state.log.warn({ operation: op.id }, "idempotency claim taken over before the result was stored");
    }
  };
}
