/**
 * Vobiz request signatures (V3 and V2, each with its sub-account "MA" variant), as described in docs/carrier-protocol.md section 3.
 *
 * Vobiz signs only `scheme://host[:port]/path` plus a per-request nonce: not the body, not the query string. A valid
 * signature therefore proves who sent the request, not what it says; callers pair it with the URL secret and a
 * nonce replay check. This module is pure (node:crypto only) so the server and the carrier simulator share one
 * implementation and cannot drift apart.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export type SignatureVersion = "v3" | "v2";

/** A signature header: the account's own (`v3`, `v2`) or the sub-account's master-account one (`ma-v3`, `ma-v2`). */
export type SignatureFamily = "v3" | "ma-v3" | "v2" | "ma-v2";

/** Why a request with signature headers was refused; for logs only, never for the caller. */
export type SignatureFailure = "mismatch" | "nonce_missing" | "nonce_malformed";

export type HeaderBag = Record<string, string | string[] | undefined>;

export interface VerifySignatureInput {
  /** Request headers with lower-case names, as Node's IncomingMessage gives them. */
  headers: HeaderBag;
  /** The full public URL as the carrier requested it (query allowed; it is stripped before signing). */
  url: string;
  /** The application's Vobiz auth token. */
  authToken: string;
  /** The parent account's token, for sub-accounts whose requests also carry the MA ("master account") signature. */
  parentAuthToken?: string;
}

export interface VerifySignatureResult {
  status: "valid" | "invalid" | "absent";
  /**
   * valid: the version of the header that verified (V3 preferred when several did);
   * invalid: the first version (V3 before V2) that had a signature header.
   */
  version?: SignatureVersion;
  /** valid only: the exact header that verified (the account's own one preferred over MA within a version). */
  family?: SignatureFamily;
  /** valid only: which configured token made the verifying signature. */
  signedWith?: "authToken" | "parentAuthToken";
  /**
   * The nonce of `version`, for replay detection. Set when valid; when invalid, set only if that version's nonce
   * header was well-formed. Never set to something that fails the nonce shape check.
   */
  nonce?: string;
  /**
   * valid only: the distinct nonces of every version that verified, `nonce` first. A request can carry V3 and V2
   * with different nonces; if only `nonce` were recorded, the same request replayed with its V3 headers stripped
   * would verify on V2 with a nonce never seen. Replay checks must record and refuse on all of them.
   */
  nonces?: string[];
  /** invalid only: why `version` failed. */
  reason?: SignatureFailure;
}

/**
 * HMAC-SHA256 over the version's message, base64 with padding.
 * V3 joins base and nonce with a dot; V2 concatenates them directly.
 */
export function computeSignature(version: SignatureVersion, authToken: string, baseUrl: string, nonce: string): string {
  const message = version === "v3" ? `${baseUrl}.${nonce}` : baseUrl + nonce;
  return createHmac("sha256", Buffer.from(authToken, "utf8")).update(message, "utf8").digest("base64");
}

const DEFAULT_PORTS: Record<string, string> = { http: "80", https: "443" };

/**
 * The part of a URL that Vobiz signs: `scheme://host[:port]/path`.
 *
 * Parsed by hand rather than with WHATWG `URL`, because `URL` normalises the path (dot segments, percent-encoding),
 * and the carrier signs the path exactly as configured: a rewritten path would make every signature fail.
 * Scheme and host are lower-cased (both are case-insensitive, and the server rebuilds them from configuration),
 * user-info is dropped (it is never part of `host[:port]`), and a default port (80/http, 443/https) is removed.
 * Throws TypeError for a string that is not an absolute http(s)-style URL: that is a configuration bug.
 */
export function signatureBaseUrl(url: string): string {
  const schemeEnd = url.indexOf("://");
  if (schemeEnd <= 0) throw new TypeError(`Not an absolute URL: ${url}`);
  const scheme = url.slice(0, schemeEnd).toLowerCase();
  if (!/^[a-z][a-z0-9+.-]*$/.test(scheme)) throw new TypeError(`Not an absolute URL: ${url}`);

  const rest = url.slice(schemeEnd + 3);
  // The authority ends at the first "/", "?" or "#"; the path runs to the first "?" or "#".
  const authorityEnd = firstIndexOf(rest, "/?#");
  let authority = authorityEnd === -1 ? rest : rest.slice(0, authorityEnd);
  const afterAuthority = authorityEnd === -1 ? "" : rest.slice(authorityEnd);
  const pathEnd = firstIndexOf(afterAuthority, "?#");
  const path = pathEnd === -1 ? afterAuthority : afterAuthority.slice(0, pathEnd);

  const at = authority.lastIndexOf("@");
  if (at !== -1) authority = authority.slice(at + 1);
  if (authority === "") throw new TypeError(`URL has no host: ${url}`);

  // The port is whatever follows the last ":" outside an IPv6 literal's brackets.
  let host = authority;
  let port = "";
  const colon = authority.lastIndexOf(":");
  if (colon !== -1 && colon > authority.lastIndexOf("]")) {
    host = authority.slice(0, colon);
    port = authority.slice(colon + 1);
  }
  host = host.toLowerCase();
  const keepPort = port !== "" && DEFAULT_PORTS[scheme] !== port;
  return `${scheme}://${host}${keepPort ? `:${port}` : ""}${path}`;
}

function firstIndexOf(s: string, chars: string): number {
  for (let i = 0; i < s.length; i++) if (chars.includes(s[i]!)) return i;
  return -1;
}

interface HeaderFamily {
  version: SignatureVersion;
  signature: string;
  masterSignature: string;
  nonce: string;
}

// Order is the tie-break: when several versions verify, the result reports the first (V3, the current scheme).
// The MA headers share their version's nonce header.
const FAMILIES: readonly HeaderFamily[] = [
  {
    version: "v3",
    signature: "x-vobiz-signature-v3",
    masterSignature: "x-vobiz-signature-ma-v3",
    nonce: "x-vobiz-signature-v3-nonce",
  },
  {
    version: "v2",
    signature: "x-vobiz-signature-v2",
    masterSignature: "x-vobiz-signature-ma-v2",
    nonce: "x-vobiz-signature-v2-nonce",
  },
];

/**
 * Vobiz sends 20 digits. The nonce goes into the replay ledger (a kv key per request), so anything that does not
 * look like a nonce is refused rather than stored: no separators that could collide keys, no unbounded length.
 */
const NONCE_SHAPE = /^[0-9A-Za-z_-]{1,64}$/;

export function isWellFormedNonce(nonce: string): boolean {
  return NONCE_SHAPE.test(nonce);
}

const HMAC_BYTES = 32;

/**
 * The only accepted spelling of a 32-byte value: 43 standard-alphabet characters, the last carrying no stray low
 * bits, then one "=". Buffer.from(s, "base64") is lenient (it skips unknown characters, takes base64url, ignores
 * missing padding and stray bits), so without this check many strings would decode to the same bytes. None of those
 * variants could be produced without knowing the HMAC, but accepting exactly what the carrier sends keeps "which
 * strings verify" a simple, testable fact. The check looks only at the candidate, so its timing says nothing about
 * the expected value.
 */
const CANONICAL_HMAC_BASE64 = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

/** The HMAC bytes a candidate spells, or undefined when it is not a canonical 32-byte base64 string. Never throws. */
export function decodeSignature(candidate: string): Buffer | undefined {
  if (!CANONICAL_HMAC_BASE64.test(candidate)) return undefined;
  const bytes = Buffer.from(candidate, "base64");
  return bytes.length === HMAC_BYTES ? bytes : undefined;
}

/** A header's value as one string; Node only produces arrays for a few headers, but repeated ones must not be lost. */
function headerValue(headers: HeaderBag, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(",") : v;
}

/** Several comma-separated signatures can arrive while the account rotates its token (Plivo behaviour). */
function candidates(value: string | undefined): Buffer[] {
  if (value === undefined) return [];
  const out: Buffer[] = [];
  for (const part of value.split(",")) {
    const bytes = decodeSignature(part.trim());
    if (bytes) out.push(bytes);
  }
  return out;
}

function hmacBytes(version: SignatureVersion, token: string, baseUrl: string, nonce: string): Buffer {
  return Buffer.from(computeSignature(version, token, baseUrl, nonce), "base64");
}

/** Constant-time match of any candidate; every candidate is compared so timing does not reveal which one matched. */
function anyMatches(expected: Buffer, given: readonly Buffer[]): boolean {
  let ok = false;
  // Both sides are exactly HMAC_BYTES long (decodeSignature guarantees it), as timingSafeEqual requires.
  for (const got of given) if (timingSafeEqual(got, expected)) ok = true;
  return ok;
}

interface FamilyOutcome {
  version: SignatureVersion;
  nonce?: string;
  /** Set when one of the version's headers verified. */
  match?: { family: SignatureFamily; signedWith: "authToken" | "parentAuthToken" };
  failure?: SignatureFailure;
}

function checkFamily(input: VerifySignatureInput, family: HeaderFamily, own: string | undefined, master: string | undefined): FamilyOutcome {
  const { version } = family;
  const nonce = headerValue(input.headers, family.nonce)?.trim();
  if (!nonce) return { version, failure: "nonce_missing" };
  if (!isWellFormedNonce(nonce)) return { version, failure: "nonce_malformed" };

  const base = signatureBaseUrl(input.url);
  const ownSigs = candidates(own);
  const masterSigs = candidates(master);
  // An empty token would make the HMAC key public, so a misconfigured app (or parent) can never verify anything.
  const tokens: Array<["authToken" | "parentAuthToken", string]> = [];
  if (input.authToken !== "") tokens.push(["authToken", input.authToken]);
  if (input.parentAuthToken) tokens.push(["parentAuthToken", input.parentAuthToken]);

  // The MA header is checked against the app's own token too: a tenant that entered its main-account token while its
  // numbers sit on a sub-account only ever verifies through MA. The parent token is only for MA: it is not the
  // account's own signing key.
  let match: FamilyOutcome["match"];
  for (const [signedWith, token] of tokens) {
    const expected = hmacBytes(version, token, base, nonce);
    const ownOk = signedWith === "authToken" && anyMatches(expected, ownSigs);
    const masterOk = anyMatches(expected, masterSigs);
    if (!match && ownOk) match = { family: version, signedWith };
    if (!match && masterOk) match = { family: `ma-${version}`, signedWith };
  }
  return match ? { version, nonce, match } : { version, nonce, failure: "mismatch" };
}

/**
 * Decides whether a request came from Vobiz. Every present signature header (V3, MA-V3, V2, MA-V2, each possibly a
 * comma list) is checked; one verifying is enough.
 * - `absent`: no V3/V2/MA signature header (the legacy V1 `x-vobiz-signature` is deliberately ignored);
 * - `invalid`: signature headers are present but none verifies (a version whose nonce header is missing or not
 *   nonce-shaped cannot verify);
 * - `valid`: an account header matches `authToken`, or an MA header matches `authToken` or `parentAuthToken`.
 */
export function verifyVobizSignature(input: VerifySignatureInput): VerifySignatureResult {
  const outcomes: FamilyOutcome[] = [];
  for (const family of FAMILIES) {
    const own = headerValue(input.headers, family.signature);
    const master = headerValue(input.headers, family.masterSignature);
    if (own === undefined && master === undefined) continue;
    outcomes.push(checkFamily(input, family, own, master));
  }
  if (outcomes.length === 0) return { status: "absent" };

  const verified = outcomes.filter((o) => o.match);
  const first = verified[0];
  if (first?.match && first.nonce !== undefined) {
    const nonces = [...new Set(verified.map((o) => o.nonce!))];
    return {
      status: "valid",
      version: first.version,
      family: first.match.family,
      signedWith: first.match.signedWith,
      nonce: first.nonce,
      nonces,
    };
  }
  const failed = outcomes[0]!;
  const result: VerifySignatureResult = { status: "invalid", version: failed.version, reason: failed.failure ?? "mismatch" };
  if (failed.nonce !== undefined) result.nonce = failed.nonce;
  return result;
}
