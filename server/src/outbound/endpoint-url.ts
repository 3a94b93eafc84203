/**
 * The address policy for tenants' event endpoints, at registration: https only, no credentials in the URL, and a
 * host that resolves to public addresses only (docs/events.md), unless the operator allows private ones for local
 * development. Delivery checks the addresses again at every connection (outbound/post.ts): DNS can change.
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { isPublicAddress } from "./addresses.js";

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

export interface UrlPolicy {
  allowPrivate: boolean;
  resolve: Resolver;
}

/** Names that are local by definition, whatever a resolver says about them. */
const LOCAL_NAMES = /(^|\.)(localhost|local|internal|localdomain|home\.arpa)$/i;

/** The host as a bare name or address (URL keeps IPv6 literals in brackets). */
export const hostOf = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, "$1");

/** The addresses `host` stands for; an IP literal stands for itself (a resolver is never asked about it). */
export async function addressesOf(host: string, resolve: Resolver): Promise<ResolvedAddress[]> {
  const family = isIP(host);
  if (family !== 0) return [{ address: host, family: family === 6 ? 6 : 4 }];
  return resolve(host);
}

export async function checkEndpointUrl(raw: string, policy: UrlPolicy): Promise<{ ok: true; url: URL } | { ok: false; reason: string }> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "is not a valid URL" };
  }
  if (url.protocol !== "https:" && !(policy.allowPrivate && url.protocol === "http:")) {
    return { ok: false, reason: "must be an https URL" };
  }
  if (url.username || url.password) return { ok: false, reason: "must not carry credentials" };
  if (policy.allowPrivate) return { ok: true, url };
  const host = hostOf(url);
  if (LOCAL_NAMES.test(host)) return { ok: false, reason: "must point at a public host" };
  let addresses: ResolvedAddress[];
  try {
    addresses = await addressesOf(host, policy.resolve);
  } catch {
    return { ok: false, reason: "host does not resolve" };
  }
  if (addresses.length === 0) return { ok: false, reason: "host does not resolve" };
  if (!addresses.every((a) => isPublicAddress(a.address))) return { ok: false, reason: "must point at a public host" };
  return { ok: true, url };
}
