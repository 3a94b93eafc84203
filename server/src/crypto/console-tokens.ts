/**
 * The web console's tokens (docs/console.md, "Sessions"): the session cookie is a short-lived JWT (HS256, jose) that
 * names a console_sessions row, and each session's CSRF token is an HMAC of its id. Both keys are derived from the
 * master key with HKDF under labels of their own, so neither can be confused with the keys that encrypt data, and a
 * leak of one tells nothing of the others. A master-key rotation therefore ends every console session (they last 12
 * hours at most anyway).
 *
 * Why a JWT and a row: the signature lets a request be refused without a database read when the cookie is forged or
 * stale; the row (read on every request) is what sign-out and key revocation end, on every replica at once.
 */
import { createHmac, hkdfSync } from "node:crypto";
import { SignJWT, jwtVerify, errors as joseErrors } from "jose";
import { constantTimeEqual } from "./tokens.js";

const HKDF_SALT = Buffer.from("maskline/hkdf/v1", "utf8");
const INFO_SESSION = "maskline/console-session/v1";
const INFO_CSRF = "maskline/console-csrf/v1";
const INFO_FINGERPRINT = "maskline/console-fingerprint/v1";
const ISSUER = "maskline";
const AUDIENCE = "maskline-console";

/** What the cookie's token says: which row, in which scope (the tenant's id, or `operator`). */
export interface ConsoleClaims {
  sessionId: string;
  scope: string;
}

export interface ConsoleTokens {
  /** A signed token for the session, valid `ttlSeconds` from `now`. */
  sign(claims: ConsoleClaims, now: Date, ttlSeconds: number): Promise<string>;
  /** The claims and expiry of a token this service signed and that has not expired at `now`; null otherwise. */
  verify(token: string, now: Date): Promise<(ConsoleClaims & { expiresAt: Date }) | null>;
  /** The session's CSRF token (base64url): derived, so it is never stored and the session's GET can return it. */
  csrfToken(sessionId: string): string;
  /** Constant time, whatever the lengths. */
  checkCsrf(sessionId: string, presented: string): boolean;
  /**
   * A keyed fingerprint of a credential (the operator token), stored with an operator's session so that changing
   * MASKLINE_ADMIN_TOKEN ends it. Keyed, so a copy of the table is no help in guessing the token.
   */
  fingerprint(secret: string): string;
}

const derive = (master: Buffer, info: string) =>
  new Uint8Array(hkdfSync("sha256", master, HKDF_SALT, Buffer.from(info, "utf8"), 32));

export function createConsoleTokens(masterKey: Buffer): ConsoleTokens {
  const sessionKey = derive(masterKey, INFO_SESSION);
  const csrfKey = derive(masterKey, INFO_CSRF);
  const fingerprintKey = derive(masterKey, INFO_FINGERPRINT);
  const csrfToken = (sessionId: string) => createHmac("sha256", csrfKey).update(sessionId, "utf8").digest("base64url");
  return Object.freeze({
    async sign(claims: ConsoleClaims, now: Date, ttlSeconds: number) {
      const iat = Math.floor(now.getTime() / 1000);
      return new SignJWT({ scope: claims.scope })
        .setProtectedHeader({ alg: "HS256", typ: "JWT" })
        .setSubject(claims.sessionId)
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt(iat)
        .setExpirationTime(iat + ttlSeconds)
        .sign(sessionKey);
    },
    async verify(token: string, now: Date) {
      try {
        const { payload } = await jwtVerify(token, sessionKey, {
          algorithms: ["HS256"],
          issuer: ISSUER,
          audience: AUDIENCE,
          currentDate: now,
          requiredClaims: ["sub", "exp", "iat"],
        });
        if (typeof payload.sub !== "string" || typeof payload.scope !== "string" || typeof payload.exp !== "number") return null;
        return { sessionId: payload.sub, scope: payload.scope, expiresAt: new Date(payload.exp * 1000) };
      } catch (err) {
        // Forged, expired, malformed: all the same to the caller (401). Anything else is ours.
        if (err instanceof joseErrors.JOSEError) return null;
        throw err;
      }
    },
    csrfToken,
    checkCsrf(sessionId: string, presented: string) {
      return constantTimeEqual(csrfToken(sessionId), presented);
    },
    fingerprint(secret: string) {
      return createHmac("sha256", fingerprintKey).update(secret, "utf8").digest("hex");
    },
  });
}
