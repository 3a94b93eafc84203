/**
 * The rules a webhook URL must meet before any DNS is asked, shared by registration (endpoint-url.ts) and
 * every delivery (post.ts), so a URL stored before the operator changed the policy is judged by today's rules.
 */
import { isIP } from "node:net";
import { isPublicAddress } from "./addresses.js";

/** Why a URL breaks the rules; "not public" means its host is local by name or by literal address. */
export type UrlRuleBroken = "scheme" | "credentials" | "not public";

/**
 * Names that are local by definition (RFC 6761 localhost, RFC 6762 .local, RFC 8375 home.arpa, the .internal TLD
 * cloud providers use for metadata and service names) or by habit; refused whatever a resolver says of them.
 */
const LOCAL_NAME = /(^|\.)(localhost|local|internal|localdomain|home\.arpa)$/;

export function parseUrl(raw: string): URL | null {
  try {
    return new URL(raw);
  } catch {
    return null;
  }
}

/**
 * The host as a connection wants it: IPv6 literals without URL's brackets. WHATWG URL parsing has already
 * turned IPv4 shorthand ("127.1", "0x7f000001", "2130706433") into dotted quads, so literals are caught here.
 */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, "$1");
}

/** The host's IP family when it is a literal address (0 for a name): Node never calls `lookup` for those. */
export function literalFamily(host: string): 0 | 4 | 6 {
  return isIP(host) as 0 | 4 | 6;
}

export function urlRuleBroken(url: URL, allowPrivate: boolean): UrlRuleBroken | null {
  const schemeAllowed = url.protocol === "https:" || (allowPrivate && url.protocol === "http:");
  if (!schemeAllowed) return "scheme";
  if (url.username !== "" || url.password !== "") return "credentials";
  if (allowPrivate) return null;
  const host = hostOf(url);
  if (literalFamily(host) !== 0) return isPublicAddress(host) ? null : "not public";
  // A trailing dot is the same name, fully qualified; a single label ("metadata", "intranet") only means something
  // through the resolver's search list, which is inside our network, never the tenant's.
  const name = host.replace(/\.+$/, "");
  if (name === "" || !name.includes(".") || LOCAL_NAME.test(name)) return "not public";
  return null;
}
