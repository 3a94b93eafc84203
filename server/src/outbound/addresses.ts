/**
 * Which IP addresses a webhook may connect to: public unicast only. The rule is an allow-list, so an address
 * nobody thought of is refused, not let through:
 * - IPv4: public iff ipaddr.js files it under no special range (loopback, RFC 1918, link-local with the cloud
 *   metadata address, CGNAT, multicast, broadcast, 0/8, 240/4, documentation, benchmarking, AS112, AMT...).
 * - IPv6: public iff inside 2000::/3 (the only global unicast space IANA allocates) and in no special range there
 *   (documentation, 6to4, Teredo, ORCHID, benchmarking...). Everything outside 2000::/3 (::1, ::, fc00::/7,
 *   fe80::/10, ff00::/8, IPv4-compatible ::a.b.c.d...) is refused by that alone.
 * - Two IPv6 forms carry an IPv4 address that is what the packet really reaches, so they are judged by it:
 *   IPv4-mapped ::ffff:a.b.c.d, and NAT64's well-known 64:ff9b::a.b.c.d (what DNS64 answers on IPv6-only hosts).
 * Anything that is not a plain address (shorthand IPv4 such as "127.1", a zone id "fe80::1%eth0") is refused.
 */
import { isIP } from "node:net";
import ipaddr from "ipaddr.js";

const GLOBAL_UNICAST_V6 = ipaddr.IPv6.parseCIDR("2000::/3");
const NAT64_WELL_KNOWN = ipaddr.IPv6.parseCIDR("64:ff9b::/96");

export function isPublicAddress(ip: string): boolean {
  // net.isIP accepts only the strict forms: dotted-quad IPv4 and standard IPv6 (ipaddr.js alone also parses
  // "0x7f.1" and friends, which we never want to reason about).
  const family = isIP(ip);
  if (family === 4) return isPublicIPv4(ipaddr.IPv4.parse(ip));
  if (family === 6 && !ip.includes("%")) return isPublicIPv6(ipaddr.IPv6.parse(hexIPv6(ip)));
  return false;
}

/**
 * The address with any dotted tail in hex ("::ffff:127.0.0.1" → "::ffff:7f00:1"), by the URL standard's parser:
 * ipaddr.js 2.5 reads every dotted tail as IPv4-mapped, so "::8.8.8.8" (IPv4-compatible) would pass as 8.8.8.8.
 */
function hexIPv6(ip: string): string {
  return ip.includes(".") ? new URL(`http://[${ip}]/`).hostname.slice(1, -1) : ip;
}

function isPublicIPv4(address: ipaddr.IPv4): boolean {
  return address.range() === "unicast";
}

function isPublicIPv6(address: ipaddr.IPv6): boolean {
  if (address.isIPv4MappedAddress() || address.match(NAT64_WELL_KNOWN)) return isPublicIPv4(embeddedIPv4(address));
  return address.match(GLOBAL_UNICAST_V6) && address.range() === "unicast";
}

/** The IPv4 address in the last 32 bits. */
function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 {
  const high = address.parts[6]!;
  const low = address.parts[7]!;
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}
