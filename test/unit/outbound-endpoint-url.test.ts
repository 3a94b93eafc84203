import { describe, expect, it } from "vitest";
import { checkEndpointUrl, type ResolvedAddress, type Resolver } from "../../server/src/outbound/endpoint-url.js";

/** A resolver over a fixed table; a name not in it fails the way getaddrinfo does. Records what it was asked. */
function fakeResolver(table: Record<string, string[]>): Resolver & { asked: string[] } {
  const asked: string[] = [];
  const resolve = async (hostname: string): Promise<ResolvedAddress[]> => {
    asked.push(hostname);
    const addresses = table[hostname];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
    return addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
  return Object.assign(resolve, { asked });
}

const resolver = fakeResolver({
  "hooks.example.com": ["93.184.215.14"],
  "dual.example.com": ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
  "mixed.example.com": ["93.184.215.14", "10.0.0.5"],
  "rebind.example.com": ["127.0.0.1"],
  "metadata.example.com": ["169.254.169.254"],
  "mapped.example.com": ["::ffff:127.0.0.1"],
  "v6private.example.com": ["fd00::1"],
  "empty.example.com": [],
  localhost: ["127.0.0.1"],
});
const strict = { allowPrivate: false, resolve: resolver };
const lax = { allowPrivate: true, resolve: resolver };

async function reasonFor(url: string, policy = strict) {
  const result = await checkEndpointUrl(url, policy);
  return result.ok ? "ok" : result.reason;
}

describe("checkEndpointUrl without allowPrivate", () => {
  it("accepts an https URL whose host resolves to public addresses only, and returns it parsed", async () => {
    const result = await checkEndpointUrl("https://hooks.example.com/maskline?token=abc", strict);
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.url.toString()).toBe("https://hooks.example.com/maskline?token=abc");
    expect(await reasonFor("https://dual.example.com:8443/in")).toBe("ok");
  });

  it("requires https", async () => {
    expect(await reasonFor("http://hooks.example.com/")).toBe("must use https");
    expect(await reasonFor("ftp://hooks.example.com/")).toBe("must use https");
    expect(await reasonFor("javascript:alert(1)")).toBe("must use https");
  });

  it("refuses local names before asking DNS", async () => {
    const asked = resolver.asked.length;
    for (const url of [
      "https://localhost/",
      "https://LOCALHOST./",
      "https://api.localhost/",
      "https://printer.local/",
      "https://metadata.google.internal/computeMetadata/v1/",
      "https://router.home.arpa/",
      "https://metadata/", // a single label only resolves through our own search list
    ]) {
      expect(await reasonFor(url), url).toBe("must point at a public host");
    }
    expect(resolver.asked.length).toBe(asked);
  });

  it("refuses a host that resolves to loopback, private, link-local (metadata), mapped or unique-local addresses", async () => {
    expect(await reasonFor("https://rebind.example.com/")).toBe("must point at a public host");
    expect(await reasonFor("https://metadata.example.com/latest/meta-data/")).toBe("must point at a public host");
    expect(await reasonFor("https://mapped.example.com/")).toBe("must point at a public host");
    expect(await reasonFor("https://v6private.example.com/")).toBe("must point at a public host");
  });

  it("refuses a host with one public and one private address", async () => {
    expect(await reasonFor("https://mixed.example.com/")).toBe("must point at a public host");
  });

  it("judges IP-literal hosts itself, without asking the resolver", async () => {
    const asked = resolver.asked.length;
    expect(await reasonFor("https://93.184.215.14/hook")).toBe("ok");
    expect(await reasonFor("https://[2606:4700:4700::1111]:8443/hook")).toBe("ok");
    for (const url of [
      "https://127.0.0.1/",
      "https://169.254.169.254/latest/meta-data/",
      "https://10.1.2.3:8443/",
      "https://[::1]/",
      "https://[::ffff:127.0.0.1]/",
      "https://[::ffff:a9fe:a9fe]/",
      "https://[fe80::1]/",
      "https://0.0.0.0/",
      // WHATWG URL parsing turns IPv4 shorthand into dotted quads, so these are literals too.
      "https://127.1/",
      "https://0x7f000001/",
      "https://2130706433/",
      "https://0177.0.0.1/",
      "https://127.0.0.1./",
    ]) {
      expect(await reasonFor(url), url).toBe("must point at a public host");
    }
    expect(resolver.asked.length).toBe(asked);
  });

  it("refuses credentials in the URL", async () => {
    expect(await reasonFor("https://user:pass@hooks.example.com/")).toBe("must not contain credentials");
    expect(await reasonFor("https://user@hooks.example.com/")).toBe("must not contain credentials");
    expect(await reasonFor("https://:pass@hooks.example.com/")).toBe("must not contain credentials");
  });

  it("refuses a malformed URL", async () => {
    for (const url of ["", "hooks.example.com/path", "https://", "https://exa mple.com/", "https://[::1/", "/relative"]) {
      expect(await reasonFor(url), url).toBe("must be an absolute URL");
    }
  });

  it("says a host that does not resolve does not resolve, without echoing the resolver's error", async () => {
    expect(await reasonFor("https://nowhere.example.com/")).toBe("host does not resolve");
    expect(await reasonFor("https://empty.example.com/")).toBe("host does not resolve");
  });

  it("gives up on a resolver that never answers", async () => {
    const hanging: Resolver = () => new Promise(() => {});
    const started = Date.now();
    const result = await checkEndpointUrl("https://slow.example.com/", { allowPrivate: false, resolve: hanging });
    expect(result).toEqual({ ok: false, reason: "host does not resolve" });
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 15_000);

  it("allows any port", async () => {
    expect(await reasonFor("https://hooks.example.com:1/")).toBe("ok");
    expect(await reasonFor("https://hooks.example.com:65535/")).toBe("ok");
  });
});

describe("checkEndpointUrl with allowPrivate", () => {
  it("allows http and private hosts, names and literals alike", async () => {
    expect(await reasonFor("http://localhost:3000/hooks", lax)).toBe("ok");
    expect(await reasonFor("http://127.0.0.1:8080/", lax)).toBe("ok");
    expect(await reasonFor("https://rebind.example.com/", lax)).toBe("ok");
    expect(await reasonFor("http://[::1]:9000/", lax)).toBe("ok");
  });

  it("still refuses other schemes, credentials and malformed URLs", async () => {
    expect(await reasonFor("ftp://localhost/", lax)).toBe("must use http or https");
    expect(await reasonFor("http://u:p@localhost/", lax)).toBe("must not contain credentials");
    expect(await reasonFor("not a url", lax)).toBe("must be an absolute URL");
  });
});
