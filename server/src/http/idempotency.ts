import { setTimeout as sleep } from "node:timers/promises";
import type { Next } from "koa";
import type { Deps } from "../deps.js";
import { AppError } from "../errors.js";
import * as store from "../stores/idempotency.js";
import type { AppContext } from "./context.js";
import type { OperationSpec } from "./openapi.js";

const WAIT_FOR_FIRST_MS = 15_000;
const POLL_MS = 25;
/** A claim this old with no result belongs to a request that died; the next one may take it over. */
const ABANDONED_AFTER_MS = 60_000;

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
 * a concurrent duplicate waits for its result; later repeats replay the stored (encrypted) 2xx response.
 * Errors release the claim, so a retry after a failure runs again. Same key, different body: 409.
 */
export function idempotency(deps: Deps, op: OperationSpec) {
  return async function idempotencyMiddleware(ctx: AppContext, next: Next) {
    const key = ctx.get("idempotency-key");
    if (!key) return next();
    const principal = ctx.state.principal;
    const ref = {
      scope: principal?.kind === "tenant" ? principal.tenantId : "admin",
      key,
      operation: `${op.id}:${canonical(ctx.params)}`,
    };
    // Keyed: the body holds real phone numbers, and a plain hash of a mostly-known number is brute-forceable.
    const requestHash = deps.keys.blindIndex(canonical(ctx.state.input?.body ?? null));

    const deadline = Date.now() + WAIT_FOR_FIRST_MS;
    for (;;) {
      if (await store.claimIdempotencyKey(deps.db, { ...ref, request_hash: requestHash })) break;
      const existing = await store.findIdempotencyKey(deps.db, ref);
      if (!existing) continue; // the first request failed and released it: claim again
      if (existing.request_hash !== requestHash) {
        throw new AppError("idempotency_conflict", "This Idempotency-Key was already used with a different request body.");
      }
      if (existing.completed_at && existing.status_code && existing.response_enc) {
        ctx.status = existing.status_code;
        ctx.body = JSON.parse(deps.keys.decrypt(existing.response_enc));
        ctx.set("Idempotent-Replayed", "true");
        return;
      }
      if (Date.now() - existing.created_at.getTime() > ABANDONED_AFTER_MS) {
        await store.releaseIdempotencyKey(deps.db, ref, existing.created_at);
        continue;
      }
      if (Date.now() > deadline) {
        throw new AppError("conflict", "A request with this Idempotency-Key is still in progress; retry shortly.");
      }
      await sleep(POLL_MS);
    }

    try {
      await next();
    } catch (err) {
      await store.releaseIdempotencyKey(deps.db, ref).catch(() => undefined);
      throw err;
    }
    if (ctx.status >= 200 && ctx.status < 300) {
      // Stored encrypted: a replayed response can hold a secret (a new API key) or masked personal data.
      const body = deps.keys.encrypt(JSON.stringify(ctx.body ?? null));
      await store.completeIdempotencyKey(deps.db, ref, ctx.status, body, deps.clock.now());
    } else {
      await store.releaseIdempotencyKey(deps.db, ref);
    }
  };
}
