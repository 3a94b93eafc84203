/**
 * The console's one client of the API: the SDK in session mode (no key in the browser, ever). The session cookie is
 * HttpOnly; this module keeps only the CSRF token the service returns, in memory, and re-reads it from
 * GET /v1/console/session on a page load.
 */
import { AuthenticationError, Maskline, MasklineError, ValidationError, type ConsoleSession } from "@maskline/sdk";

let csrfToken: string | undefined;
/** Why there is no session: the user signed out, or the service ended it (expired, key revoked, signed out elsewhere). */
export type SessionEnd = "signed-out" | "ended";
const listeners = new Set<(session: ConsoleSession | null, end?: SessionEnd) => void>();

export const api = new Maskline({
  baseUrl: window.location.origin,
  session: { csrfToken: () => csrfToken },
  // A console user waits for one answer; retries of a failing change would only delay the message.
  maxRetries: 1,
  timeoutMs: 20_000,
});

function publish(session: ConsoleSession | null, end?: SessionEnd) {
  csrfToken = session?.csrfToken;
  for (const listener of listeners) listener(session, end);
}

export function onSessionChange(listener: (session: ConsoleSession | null, end?: SessionEnd) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The session the cookie names, or null when there is none (never signed in, signed out, expired, key revoked). */
export async function loadSession(): Promise<ConsoleSession | null> {
  try {
    const session = await api.console.getSession();
    publish(session);
    return session;
  } catch (err) {
    if (err instanceof AuthenticationError) {
      publish(null);
      return null;
    }
    throw err;
  }
}

export async function signIn(credential: string): Promise<ConsoleSession> {
  const session = await api.console.signIn(credential);
  publish(session);
  return session;
}

export async function signOut(): Promise<void> {
  try {
    await api.console.signOut();
  } catch (err) {
    // Already ended on the server: signed out all the same.
    if (!(err instanceof AuthenticationError)) throw err;
  }
  publish(null, "signed-out");
}

/** A 401 anywhere means the session ended (expired, signed out elsewhere, key revoked): back to the sign-in page. */
export function sessionEnded(err: unknown): boolean {
  if (err instanceof AuthenticationError) {
    publish(null, "ended");
    return true;
  }
  return false;
}

/** What went wrong, in words a console user can act on. */
export function describeError(err: unknown): string {
  if (err instanceof ValidationError) {
    const fields = (err.errors ?? []).map((e) => `${e.path.replace(/^\/body\/?/, "") || "request"}: ${e.message}`);
    const head = err.detail ?? "The request is not valid.";
    return fields.length ? `${head} (${fields.join("; ")})` : head;
  }
  if (err instanceof MasklineError) {
    if (err.code === "connection_error" || err.code === "timeout") return "The service did not answer. Check your connection and try again.";
    if (err.code === "rate_limited") return "Too many requests just now. Wait a few seconds and try again.";
    if (err.code === "forbidden") return "The service refused this change (the console session's CSRF token was not accepted). Reload the page and try again.";
    return err.detail ?? err.message;
  }
  return err instanceof Error ? err.message : String(err);
}
