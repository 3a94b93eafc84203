import type { RouterContext } from "@koa/router";
import type { Logger } from "pino";
import type { IdempotencyClaim } from "../services/idempotency.js";
import type { ConsoleIdentity } from "../services/console-sessions.js";

/** Who is calling; `consoleSessionId` when the request came with the web console's cookie instead of the credential. */
export type Principal =
  | { kind: "tenant"; tenantId: string; apiKeyId: string; consoleSessionId?: string }
  | { kind: "admin"; consoleSessionId?: string };

/** Per-request data. Lives in ctx.state, never on app.context. */
export interface RequestState {
  requestId: string;
  log: Logger;
  principal?: Principal;
  /** Validated, defaulted inputs, set by the route helper. */
  input?: { path: Record<string, unknown>; query: Record<string, unknown>; body: unknown };
  /** This request's hold on its Idempotency-Key, when it sent one; routes hand it to the service via storeResult. */
  idempotencyClaim?: IdempotencyClaim;
  /** The console session the request came in, when it came with the console's cookie (http/console-auth.ts). */
  consoleSession?: ConsoleIdentity;
}

export type AppContext = RouterContext<RequestState>;

export function tenantIdOf(ctx: AppContext): string {
  const p = ctx.state.principal;
  if (p?.kind !== "tenant") throw new Error("tenantIdOf called on a route without tenant authentication");
  return p.tenantId;
}
