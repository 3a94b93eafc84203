import { describe, expect, it } from "vitest";
import { isPublicAddress } from "../../server/src/outbound/addresses.js";

describe("isPublicAddress", () => {
  it.each([
    ["8.8.8.8"],
    ["1.1.1.1"],
    ["93.184.215.14"],
    ["172.15.255.255"], // just below 172.16/12
    ["172.32.0.1"], // just above it
    ["100.63.255.255"], // just below CGNAT
    ["100.128.0.1"], // just above it
    ["192.169.0.1"],
    ["223.255.255.255"], // last unicast before multicast
    ["2606:4700:4700::1111"],
    ["2001:4860:4860::8888"],
    ["2a00:1450:4001:80b::200e"],
    ["::ffff:8.8.8.8"], // IPv4-mapped public
    ["::ffff:808:808"], // the same, in hex
    ["64:ff9b::808:808"], // NAT64 of a public IPv4 (DNS64 on IPv6-only hosts)
    ["64:ff9b::8.8.8.8"], // the same, dotted
  ])("accepts the public address %s", (ip) => {
    expect(isPublicAddress(ip)).toBe(true);
  });

  it.each([
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback, end of 127/8"],
    ["10.0.0.1", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["169.254.169.254", "link-local: cloud metadata"],
    ["169.254.0.1", "link-local"],
    ["100.64.0.1", "CGNAT"],
    ["100.127.255.255", "CGNAT"],
    ["0.0.0.0", "unspecified"],
    ["0.1.2.3", "this network"],
    ["255.255.255.255", "broadcast"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.250", "multicast"],
    ["240.0.0.1", "reserved"],
    ["192.0.0.8", "IETF protocol assignments"],
    ["192.0.2.1", "TEST-NET-1"],
    ["198.51.100.7", "TEST-NET-2"],
    ["203.0.113.9", "TEST-NET-3"],
    ["198.18.0.1", "benchmarking"],
    ["198.19.255.255", "benchmarking"],
    ["192.88.99.1", "6to4 relay anycast"],
    ["::1", "IPv6 loopback"],
    ["::", "IPv6 unspecified"],
    ["fe80::1", "IPv6 link-local"],
    ["fc00::1", "unique-local"],
    ["fd12:3456:789a::1", "unique-local"],
    ["fec0::1", "site-local (deprecated)"],
    ["ff02::1", "IPv6 multicast"],
    ["2001:db8::1", "IPv6 documentation"],
    ["3fff::1", "IPv6 documentation (RFC 9637)"],
    ["2001:2::1", "IPv6 benchmarking"],
    ["2002:c000:0204::1", "6to4"],
    ["2002:7f00:1::1", "6to4 of loopback"],
    ["2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"],
    ["100::1", "discard-only"],
    ["5f00::1", "segment routing, outside 2000::/3"],
    ["4000::1", "unallocated, outside 2000::/3"],
    ["::ffff:127.0.0.1", "IPv4-mapped loopback"],
    ["::ffff:7f00:1", "IPv4-mapped loopback in hex"],
    ["::ffff:169.254.169.254", "IPv4-mapped metadata"],
    ["::ffff:10.0.0.1", "IPv4-mapped private"],
    ["::127.0.0.1", "IPv4-compatible loopback"],
    ["::8.8.8.8", "IPv4-compatible (deprecated) even of a public address"],
    ["::ffff:0:7f00:1", "IPv4-translated (RFC 6145)"],
    ["64:ff9b::7f00:1", "NAT64 of loopback"],
    ["64:ff9b::a9fe:a9fe", "NAT64 of metadata"],
    ["64:ff9b:1::808:808", "local-use NAT64 prefix"],
  ])("refuses %s (%s)", (ip) => {
    expect(isPublicAddress(ip)).toBe(false);
  });

  it.each([
    ["127.1", "IPv4 shorthand"],
    ["0x7f.0.0.1", "hex IPv4"],
    ["2130706433", "IPv4 as one number"],
    ["017700000001", "octal"],
    ["8.8.8.8.8", "five parts"],
    ["[::1]", "brackets"],
    ["[2606:4700:4700::1111]", "brackets, public inside"],
    ["fe80::1%eth0", "zone id"],
    ["2606:4700:4700::1111%1", "zone id on a public address"],
    ["localhost", "a name"],
    ["example.com", "a name"],
    ["", "empty"],
    [" 8.8.8.8", "leading space"],
  ])("refuses %s, which is not a plain address (%s)", (ip) => {
    expect(isPublicAddress(ip)).toBe(false);
  });
});
