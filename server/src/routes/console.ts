/**
 * The web console's session (docs/console.md): sign in with a key or the operator token, read the session (and its
 * CSRF token) back, sign out. Everything else the console does goes through the ordinary /v1 operations.
 */
import type Router from "@koa/router";
import type { Deps } from "../deps.js";
import type { RequestState } from "../http/context.js";
import { route } from "../http/route.js";
import { clearConsoleCookie, setConsoleCookie } from "../http/console-auth.js";
import * as consoleSessions from "../services/console-sessions.js";

export function consoleRoutes(router: Router<RequestState>, deps: Deps) {
  route(router, deps, "console.signIn", async (ctx, { body }) => {
    const issued = await consoleSessions.signIn(deps, body.credential, ctx.ip || "unknown");
    setConsoleCookie(ctx, deps, issued);
    const { identity } = issued;
    // Signed in: the audit trail records the sign-in as this session's first act.
    ctx.state.consoleSession = identity;
    ctx.state.principal =
      identity.kind === "tenant"
        ? { kind: "tenant", tenantId: identity.tenantId!, apiKeyId: identity.apiKeyId!, consoleSessionId: identity.sessionId }
        : { kind: "admin", consoleSessionId: identity.sessionId };
    return { status: 201, body: consoleSessions.toConsoleSession(deps, identity.view) };
  });

  route(router, deps, "console.getSession", async (ctx) => {
    ctx.set("Cache-Control", "no-store");
    return { status: 200, body: consoleSessions.toConsoleSession(deps, ctx.state.consoleSession!.view) };
  });

  route(router, deps, "console.signOut", async (ctx) => {
    await consoleSessions.signOut(deps, ctx.state.consoleSession!);
    clearConsoleCookie(ctx, deps);
    return { status: 204 };
  });
}
