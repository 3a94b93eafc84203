import { randomUUID } from "node:crypto";
import type { Next } from "koa";
import type { Logger } from "pino";
import type { AppContext } from "./context.js";
import type { ForegroundLoad } from "../time/foreground-load.js";
import type { Metrics } from "../metrics/metrics.js";

const VALID_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Assigns the request id (a caller's X-Request-Id is kept when sane), a child logger, and logs completion; counts
 * the request as foreground load, which background work yields to (time/foreground-load.ts).
 */
export function requestContext(
  logger: Logger,
  load: Pick<ForegroundLoad, "requestStarted" | "requestEnded">,
  metrics: Pick<Metrics, "httpRequests" | "httpDuration">,
) {
  return async function requestContextMiddleware(ctx: AppContext, next: Next) {
    load.requestStarted();
    const incoming = ctx.get("x-request-id");
    const requestId = VALID_REQUEST_ID.test(incoming) ? incoming : `req_${randomUUID()}`;
    ctx.state.requestId = requestId;
    // The child logger is made on first use: most requests never log beyond the level filter, and making one
    // (with its redacted bindings) was ~6% of the answer path's CPU.
    let child: Logger | undefined;
    Object.defineProperty(ctx.state, "log", {
      configurable: true,
      enumerable: true,
      get: () => (child ??= logger.child({ requestId })),
      set: (value: Logger) => {
        child = value;
      },
    });
    ctx.set("X-Request-Id", requestId);
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      load.requestEnded();
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      // The router names each route by its operation id (http/route.ts): a bounded label, never the path itself.
      const operation = (ctx as { _matchedRouteName?: string })._matchedRouteName ?? "unmatched";
      metrics.httpRequests.inc({ operation, method: ctx.method, status: String(ctx.status) });
      metrics.httpDuration.observe({ operation }, ms / 1000);
      // ctx.path, not ctx.url: query strings may carry an app's URL secret.
      ctx.state.log.info({ method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(ms * 10) / 10 }, "request");
    }
  };
}
