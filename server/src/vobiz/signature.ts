/**
 * Vobiz request signatures (V3, with V2 as the fallback), as described in docs/vobiz.md section 3.
 *
 * Vobiz signs only `scheme://host[:port]/path` plus a per-request nonce: not the body, not the query string. A valid
 * signature therefore proves who sent the request, not what it says; callers pair it with the URL secret and a
 * nonce replay check. This module is pure (node:crypto only) so the server and the carrier simulator share one
 * implementation and cannot drift apart.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export type SignatureVersion = "v3" | "v2";

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
  /** The header family the decision was made on; set whenever a signature header was present. */
  version?: SignatureVersion;
  /** The nonce the signature covered, for replay detection; set whenever one was sent. */
  nonce?: string;
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

// V3 first: it is the current scheme, and V2 is only consulted when no V3 header was sent at all (a present but
// wrong V3 signature is not rescued by a V2 one). The MA headers share the family's nonce header.
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

/** A header's value as one string; Node only produces arrays for a few headers, but repeated ones must not be lost. */
function headerValue(headers: HeaderBag, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(",") : v;
}

/** Several comma-separated signatures can arrive while the account rotates its token (Plivo behaviour). */
function candidates(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/** Constant-time match of any candidate; every candidate is checked so timing does not reveal which one matched. */
function anyMatches(expected: string, given: readonly string[]): boolean {
  const want = Buffer.from(expected, "utf8");
  let ok = false;
  for (const sig of given) {
    const got = Buffer.from(sig, "utf8");
    // timingSafeEqual throws on unequal lengths; the length of a base64 HMAC is public anyway.
    if (got.length === want.length && timingSafeEqual(got, want)) ok = true;
  }
  return ok;
}

/**
 * Decides whether a request came from Vobiz.
 * - `absent`: no V3/V2 signature header (the legacy V1 `x-vobiz-signature` is deliberately ignored);
 * - `invalid`: a signature header is present but nothing matches, or its nonce header is missing;
 * - `valid`: the account signature matches `authToken`, or the MA signature matches `parentAuthToken`.
 */
export function verifyVobizSignature(input: VerifySignatureInput): VerifySignatureResult {
  const { headers } = input;
  for (const family of FAMILIES) {
    const own = headerValue(headers, family.signature);
    const master = headerValue(headers, family.masterSignature);
    if (own === undefined && master === undefined) continue;

    const nonce = headerValue(headers, family.nonce)?.trim();
    if (!nonce) return { status: "invalid", version: family.version };

    const base = signatureBaseUrl(input.url);
    // An empty token would make the HMAC key public, so a misconfigured app can never verify anything.
    let ok = input.authToken !== "" && anyMatches(computeSignature(family.version, input.authToken, base, nonce), candidates(own));
    if (input.parentAuthToken && master !== undefined) {
      const masterOk = anyMatches(computeSignature(family.version, input.parentAuthToken, base, nonce), candidates(master));
      ok = ok || masterOk;
    }
    return { status: ok ? "valid" : "invalid", version: family.version, nonce };
  }
  return { status: "absent" };
}
