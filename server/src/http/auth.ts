import type { Next } from "koa";
import type { Config } from "../config.js";
import type { Deps } from "../deps.js";
import { AppError } from "../errors.js";
import { constantTimeEqual } from "../crypto/tokens.js";
import { authenticateApiKey } from "../services/api-keys.js";
import type { AppContext } from "./context.js";
import { authenticateByCookie, consoleCookie } from "./console-auth.js";

const unauthorized = () => new AppError("unauthorized", "A valid API key is required.");

function bearerToken(ctx: AppContext): string {
  const header = ctx.get("authorization");
  const match = /^Bearer ([\x21-\x7e]{1,512})$/.exec(header);
  if (!match) throw unauthorized();
  return match[1]!;
}

/**
 * GET /metrics's access (config.ts, metricsAccess): the metrics token when one is set, compared in constant time;
 * otherwise open in embedded mode and closed on Postgres. Refusals are the API's 401, naming the metrics token.
 */
export function checkMetricsAccess(ctx: AppContext, access: Config["metricsAccess"]): void {
  if (access.kind === "open") return;
  if (access.kind === "closed") throw new AppError("unauthorized", "GET /metrics is closed: set MASKLINE_METRICS_TOKEN to scrape it.");
  const match = /^Bearer ([\x21-\x7e]{1,512})$/.exec(ctx.get("authorization"));
  if (!match || !constantTimeEqual(match[1]!, access.token)) throw new AppError("unauthorized", "GET /metrics needs the metrics token.");
}

/**
 * The console's cookie stands in for the credential only when no Authorization header is sent: a client that sends
 * a key is judged by its key alone (docs/console.md).
 */
function cookieInstead(ctx: AppContext, deps: Deps): string | null {
  return ctx.get("authorization") === "" ? consoleCookie(ctx, deps) : null;
}

export function requireApiKey(deps: Deps) {
  return async function apiKeyAuth(ctx: AppContext, next: Next) {
    const cookie = cookieInstead(ctx, deps);
    if (cookie) {
      await authenticateByCookie(ctx, deps, cookie, "tenant");
      return next();
    }
    const { tenantId, apiKeyId } = await authenticateApiKey(deps, bearerToken(ctx));
    ctx.state.principal = { kind: "tenant", tenantId, apiKeyId };
    ctx.state.log = ctx.state.log.child({ tenantId });
    await next();
  };
}

export function requireAdmin(deps: Deps) {
  return async function adminAuth(ctx: AppContext, next: Next) {
    const cookie = cookieInstead(ctx, deps);
    if (cookie) {
      await authenticateByCookie(ctx, deps, cookie, "operator");
      return next();
    }
    const token = bearerToken(ctx);
    const expected = deps.config.adminToken;
    if (!expected || !constantTimeEqual(token, expected)) {
      throw new AppError("unauthorized", "A valid operator token is required.");
    }
    ctx.state.principal = { kind: "admin" };
    await next();
  };
}
