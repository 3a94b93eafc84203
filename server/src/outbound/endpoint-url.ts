/**
 * The address policy for tenants' event endpoints, at registration (docs/events.md): https only, no credentials in
 * the URL, and a host that is public by name and resolves to public addresses only, unless the operator allows
 * private ones (MASKLINE_WEBHOOK_ALLOW_PRIVATE, for local development and tests). Delivery checks the addresses
 * again at every connection (post.ts): DNS can change between registration and delivery.
 */
import { lookup } from "node:dns/promises";
import { isPublicAddress } from "./addresses.js";
import { hostOf, literalFamily, parseUrl, urlRuleBroken, type UrlRuleBroken } from "./url-rules.js";

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}
/** Every address a name stands for; tests pass one that maps public-looking names to local addresses. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

/** The operating system's resolver (getaddrinfo), in the order it answers: what a connection would use. */
export const systemResolver: Resolver = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

export interface UrlPolicy {
  allowPrivate: boolean;
  resolve: Resolver;
}

/** A registration waits this long for DNS, then says the host does not resolve (getaddrinfo can hang for long). */
const REGISTRATION_RESOLVE_TIMEOUT_MS = 5_000;

/** Each reason completes "url …" in a 422 field error; none echoes the URL or what it resolved to. */
const REASONS: Record<UrlRuleBroken | "malformed" | "unresolvable" | "web scheme", string> = {
  malformed: "must be an absolute URL",
  scheme: "must use https",
  "web scheme": "must use http or https",
  credentials: "must not contain credentials",
  "not public": "must point at a public host",
  unresolvable: "host does not resolve",
};

/** At registration: ok with the parsed URL, or a reason fit for a 422 field error message. */
export async function checkEndpointUrl(raw: string, policy: UrlPolicy): Promise<{ ok: true; url: URL } | { ok: false; reason: string }> {
  const url = parseUrl(raw);
  if (!url) return refused("malformed");
  const broken = urlRuleBroken(url, policy.allowPrivate);
  if (broken) return refused(broken === "scheme" && policy.allowPrivate ? "web scheme" : broken);
  if (policy.allowPrivate) return { ok: true, url };
  const host = hostOf(url);
  // A literal address was judged by the rules above; only a name needs resolving.
  if (literalFamily(host) !== 0) return { ok: true, url };
  let addresses: ResolvedAddress[];
  try {
    addresses = await resolveWithin(policy.resolve, host, REGISTRATION_RESOLVE_TIMEOUT_MS);
  } catch {
    return refused("unresolvable");
  }
  if (addresses.length === 0) return refused("unresolvable");
  // One private address among public ones is enough to refuse: a connection may pick any of them.
  if (!addresses.every((a) => isPublicAddress(a.address))) return refused("not public");
  return { ok: true, url };
}

function refused(why: keyof typeof REASONS): { ok: false; reason: string } {
  return { ok: false, reason: REASONS[why] };
}

async function resolveWithin(resolve: Resolver, host: string, timeoutMs: number): Promise<ResolvedAddress[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("resolve timed out")), timeoutMs);
  });
  try {
    return await Promise.race([resolve(host), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
