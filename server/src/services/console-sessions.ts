/**
 * Web console sessions (docs/console.md, "Sessions"). A tenant signs in with an API key, the operator with the
 * operator token; the credential is checked once and never kept. The session is a console_sessions row plus a signed
 * token in a cookie (crypto/console-tokens.ts) that expires after IDLE_SECONDS without a request and is re-issued as
 * requests come, up to ABSOLUTE_SECONDS after sign-in. Every request re-reads the row: a signed-out session, or one
 * whose API key was revoked, is refused at once on every replica.
 */
import type { Deps } from "../deps.js";
import { AppError } from "../errors.js";
import { newId } from "../crypto/ids.js";
import { constantTimeEqual } from "../crypto/tokens.js";
import * as store from "../stores/console-sessions.js";
import type { ConsoleSessionView } from "../stores/console-sessions.js";
import { authenticateApiKey } from "./api-keys.js";
import { iso, type Schemas } from "./shapes.js";

/** A session ends after this long without a request (its token is re-issued as requests come). */
export const IDLE_SECONDS = 30 * 60;
/** ...and this long after sign-in, however active. */
export const ABSOLUTE_SECONDS = 12 * 3600;
/** A token older than this is re-issued on the next request, so idleness is measured to the minute. */
const REISSUE_AFTER_SECONDS = 60;
/**
 * Wrong credentials from one address (MASKLINE_CONSOLE_SIGN_IN_ATTEMPTS, default 10) before sign-in refuses it until
 * this window ends; counted in kv, so across replicas.
 */
export const SIGN_IN_WINDOW_MS = 15 * 60_000;
const OPERATOR_SCOPE = "operator";

type ConsoleDeps = Pick<Deps, "db" | "kv" | "clock" | "logger" | "config" | "consoleTokens">;

export interface ConsoleIdentity {
  sessionId: string;
  kind: "tenant" | "operator";
  /** The tenant's id, or null for the operator. */
  tenantId: string | null;
  apiKeyId: string | null;
  view: ConsoleSessionView;
}

export interface IssuedSession {
  identity: ConsoleIdentity;
  /** The cookie's value. */
  token: string;
  /** How long the cookie should be kept (the token's own lifetime). */
  maxAgeSeconds: number;
}

const unauthorized = () => new AppError("unauthorized", "Sign in to the console again.");

export function toConsoleSession(deps: Pick<Deps, "consoleTokens">, view: ConsoleSessionView): Schemas["ConsoleSession"] {
  return {
    id: view.id,
    kind: view.kind,
    tenantId: view.kind === "tenant" ? view.scope : null,
    tenantName: view.tenant_name,
    apiKeyId: view.api_key_id,
    apiKeyStart: view.key_start,
    csrfToken: deps.consoleTokens.csrfToken(view.id),
    createdAt: iso(view.created_at),
    expiresAt: iso(view.expires_at),
    idleTimeoutSeconds: IDLE_SECONDS,
  };
}

const failureKey = (ip: string, window: number) => `console-signin:{${ip}}:${window}`;

/**
 * Counts this attempt against the address before the credential is checked, 429 once the window's attempts are
 * spent. Counting first (one atomic increment) is what holds under parallel requests: a read-then-count check lets a
 * burst of simultaneous guesses all see room. A right credential gives its attempt back (giveBack), so only wrong
 * ones use the allowance. kv trouble lets the attempt through (fail open) with a warning. Returns the counter's key.
 */
async function takeAttempt(deps: ConsoleDeps, ip: string, nowMs: number): Promise<string | null> {
  const allowed = deps.config.consoleSignInAttempts;
  if (allowed === 0) return null;
  const window = Math.floor(nowMs / SIGN_IN_WINDOW_MS);
  const key = failureKey(ip, window);
  let attempts: number;
  try {
    attempts = await deps.kv.increment(key, 1, SIGN_IN_WINDOW_MS);
  } catch (err) {
    deps.logger.warn({ err }, "console sign-in counters unavailable: attempts are not being limited");
    return null;
  }
  if (attempts > allowed) {
    const retryAfter = Math.ceil(((window + 1) * SIGN_IN_WINDOW_MS - nowMs) / 1000);
    throw new AppError("rate_limited", "Too many wrong sign-in attempts from this address; wait before trying again.", {
      headers: { "Retry-After": String(retryAfter) },
    });
  }
  return key;
}

/** An attempt that was not a wrong credential (it succeeded, or the check itself failed) is not counted. */
async function giveBack(deps: ConsoleDeps, key: string | null): Promise<void> {
  if (key) await deps.kv.increment(key, -1, SIGN_IN_WINDOW_MS).catch(() => undefined);
}

/** Which kind of session the credential opens, or a 401 (counted against `ip`). */
async function identify(deps: ConsoleDeps, credential: string): Promise<{ kind: "tenant"; tenantId: string; apiKeyId: string } | { kind: "operator" } | null> {
  if (credential.startsWith("mk_live_")) {
    try {
      const { tenantId, apiKeyId } = await authenticateApiKey(deps, credential);
      return { kind: "tenant", tenantId, apiKeyId };
    } catch (err) {
      if (err instanceof AppError && err.code === "unauthorized") return null;
      throw err;
    }
  }
  const admin = deps.config.adminToken;
  return admin && constantTimeEqual(credential, admin) ? { kind: "operator" } : null;
}

async function issue(deps: ConsoleDeps, view: ConsoleSessionView, now: Date): Promise<IssuedSession> {
  const remaining = Math.floor((view.expires_at.getTime() - now.getTime()) / 1000);
  const ttl = Math.max(1, Math.min(IDLE_SECONDS, remaining));
  const token = await deps.consoleTokens.sign({ sessionId: view.id, scope: view.scope }, now, ttl);
  return { identity: identityOf(view), token, maxAgeSeconds: ttl };
}

function identityOf(view: ConsoleSessionView): ConsoleIdentity {
  return {
    sessionId: view.id,
    kind: view.kind,
    tenantId: view.kind === "tenant" ? view.scope : null,
    apiKeyId: view.api_key_id,
    view,
  };
}

export async function signIn(deps: ConsoleDeps, credential: string, ip: string): Promise<IssuedSession> {
  const now = deps.clock.now();
  const attempt = await takeAttempt(deps, ip, now.getTime());
  const who = await identify(deps, credential).catch(async (err: unknown) => {
    await giveBack(deps, attempt);
    throw err;
  });
  if (!who) throw new AppError("unauthorized", "That API key or operator token is not valid (or has been revoked).");
  await giveBack(deps, attempt);
  const row: Omit<store.ConsoleSessionRow, "revoked_at"> = {
    scope: who.kind === "tenant" ? who.tenantId : OPERATOR_SCOPE,
    id: newId("cs"),
    kind: who.kind,
    api_key_id: who.kind === "tenant" ? who.apiKeyId : null,
    credential_fingerprint: who.kind === "operator" ? deps.consoleTokens.fingerprint(credential) : null,
    created_at: now,
    expires_at: new Date(now.getTime() + ABSOLUTE_SECONDS * 1000),
  };
  await store.insertConsoleSession(deps.db, row);
  const view = await store.findConsoleSession(deps.db, row.scope, row.id);
  if (!view) throw new Error("console session vanished after insert");
  return issue(deps, view, now);
}

/** Whether the row still stands: not signed out, not past its end, its key not revoked, the operator token unchanged. */
function stands(deps: ConsoleDeps, view: ConsoleSessionView, now: Date): boolean {
  if (view.revoked_at || view.expires_at <= now) return false;
  if (view.kind === "tenant") return view.key_found && view.key_revoked_at === null;
  const admin = deps.config.adminToken;
  return Boolean(admin && view.credential_fingerprint && constantTimeEqual(view.credential_fingerprint, deps.consoleTokens.fingerprint(admin)));
}

export interface ConsoleAuthentication {
  identity: ConsoleIdentity;
  /** A fresh token when the presented one is over a minute old (the sliding idle expiry). */
  reissued: IssuedSession | null;
}

/** The session a cookie's token names, if it still stands; otherwise a 401. */
export async function authenticateConsole(deps: ConsoleDeps, token: string): Promise<ConsoleAuthentication> {
  const now = deps.clock.now();
  const claims = await deps.consoleTokens.verify(token, now);
  if (!claims) throw unauthorized();
  const view = await store.findConsoleSession(deps.db, claims.scope, claims.sessionId);
  if (!view || !stands(deps, view, now)) throw unauthorized();
  const issuedAgo = IDLE_SECONDS - (claims.expiresAt.getTime() - now.getTime()) / 1000;
  const reissued = issuedAgo > REISSUE_AFTER_SECONDS ? await issue(deps, view, now) : null;
  return { identity: identityOf(view), reissued };
}

export async function signOut(deps: ConsoleDeps, identity: ConsoleIdentity): Promise<void> {
  await store.revokeConsoleSession(deps.db, identity.view.scope, identity.sessionId, deps.clock.now());
}
