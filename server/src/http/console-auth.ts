/**
 * The web console's cookie (docs/console.md, "Sessions"). The console calls the same /v1 operations as a client
 * with a key: each accepts either `Authorization: Bearer …` (which wins when both are sent) or this cookie, and a
 * request that changes something with the cookie must carry the session's CSRF token in `X-CSRF-Token`.
 *
 * Why a CSRF token on top of SameSite=Strict: SameSite is the browser's promise, and a sibling subdomain counts as
 * the same site; the token is ours. It is checked before the body is even validated, so a forged request learns
 * nothing.
 *
 * The cookie is HttpOnly (no script reads it), SameSite=Strict, Path=/, and Secure with the `__Host-` prefix when
 * PUBLIC_BASE_URL is https (the service itself may sit behind a proxy that terminates TLS, so the public URL, not
 * the socket, decides). It is written by hand: Koa's cookie helper refuses Secure cookies on a plain socket.
 */
import type { Next } from "koa";
import type { Deps } from "../deps.js";
import { AppError } from "../errors.js";
import { authenticateConsole, type ConsoleIdentity, type IssuedSession } from "../services/console-sessions.js";
import type { AppContext } from "./context.js";
import { isHttps } from "./console-assets.js";

const BASE_NAME = "maskline_console";
export const CSRF_HEADER = "x-csrf-token";
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
const TOKEN_SHAPE = /^[A-Za-z0-9_.-]{20,2048}$/;

const isSecure = (deps: Pick<Deps, "config">) => isHttps(deps.config.publicBaseUrl);
export const cookieName = (deps: Pick<Deps, "config">) => (isSecure(deps) ? `__Host-${BASE_NAME}` : BASE_NAME);

/** The console cookie's value, if the request carries one that could be a token. */
export function consoleCookie(ctx: AppContext, deps: Pick<Deps, "config">): string | null {
  const name = cookieName(deps);
  for (const part of ctx.get("cookie").split(";")) {
    const eq = part.indexOf("=");
    if (eq === -1 || part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    return TOKEN_SHAPE.test(value) ? value : null;
  }
  return null;
}

function cookieHeader(deps: Pick<Deps, "config">, value: string, maxAgeSeconds: number): string {
  const attrs = [`${cookieName(deps)}=${value}`, "Path=/", `Max-Age=${maxAgeSeconds}`, "HttpOnly", "SameSite=Strict"];
  if (isSecure(deps)) attrs.push("Secure");
  return attrs.join("; ");
}

export function setConsoleCookie(ctx: AppContext, deps: Pick<Deps, "config">, issued: IssuedSession): void {
  ctx.append("Set-Cookie", cookieHeader(deps, issued.token, issued.maxAgeSeconds));
  // A response that sets the session cookie is never cached by anyone.
  ctx.set("Cache-Control", "no-store");
}

export function clearConsoleCookie(ctx: AppContext, deps: Pick<Deps, "config">): void {
  ctx.append("Set-Cookie", cookieHeader(deps, "", 0));
  ctx.set("Cache-Control", "no-store");
}

/**
 * Authenticates a request by its console cookie: the session must stand (services/console-sessions.ts) and be of
 * `kind` (a tenant's session on a tenant route, the operator's on an operator route; `any` for the console's own
 * session routes), and a change must carry the CSRF token. Refreshes the cookie as the session is used.
 */
export async function authenticateByCookie(
  ctx: AppContext,
  deps: Deps,
  token: string,
  kind: "tenant" | "operator" | "any",
): Promise<ConsoleIdentity> {
  const { identity, reissued } = await authenticateConsole(deps, token);
  if (kind !== "any" && identity.kind !== kind) {
    throw new AppError("unauthorized", kind === "tenant" ? "A valid API key is required." : "A valid operator token is required.");
  }
  if (!SAFE_METHODS.has(ctx.method) && !deps.consoleTokens.checkCsrf(identity.sessionId, ctx.get(CSRF_HEADER))) {
    throw new AppError("forbidden", "This change was made with the console's cookie but without its CSRF token (X-CSRF-Token).");
  }
  if (reissued) setConsoleCookie(ctx, deps, reissued);
  ctx.state.consoleSession = identity;
  ctx.state.principal =
    identity.kind === "tenant"
      ? { kind: "tenant", tenantId: identity.tenantId!, apiKeyId: identity.apiKeyId!, consoleSessionId: identity.sessionId }
      : { kind: "admin", consoleSessionId: identity.sessionId };
  if (identity.tenantId) ctx.state.log = ctx.state.log.child({ tenantId: identity.tenantId });
  return identity;
}

/** For the console's own session routes (security `consoleSession`): the cookie, of either kind. */
export function requireConsoleSession(deps: Deps) {
  return async function consoleSessionAuth(ctx: AppContext, next: Next) {
    const token = consoleCookie(ctx, deps);
    if (!token) throw new AppError("unauthorized", "Sign in to the console first.");
    await authenticateByCookie(ctx, deps, token, "any");
    await next();
  };
}
