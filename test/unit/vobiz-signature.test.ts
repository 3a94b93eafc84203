import { describe, expect, it } from "vitest";
import {
  computeSignature,
  decodeSignature,
  signatureBaseUrl,
  verifyVobizSignature,
  type HeaderBag,
} from "../../server/src/vobiz/signature.js";
import { VobizSimulator } from "../sim/vobiz-simulator.js";

// The test vector from docs/carrier-protocol.md section 3.
const TOKEN = "test-auth-token";
const URL_WITH_QUERY = "https://masking.example.com/vobiz/answer?x=1";
const NONCE = "12345678901234567890";
const V3 = "pGs9Kvd6fY625tug/Z/2Aji4/sTrJKf/tx33Mg3ckw0=";
const V2 = "Prm9o3Yyc34KT4PyNul/Mc/iiT9kdtMVXD+kdERicPs=";

function v3Headers(signature: string, nonce = NONCE): HeaderBag {
  return { "x-vobiz-signature-v3": signature, "x-vobiz-signature-v3-nonce": nonce };
}

function v2Headers(signature: string, nonce = NONCE): HeaderBag {
  return { "x-vobiz-signature-v2": signature, "x-vobiz-signature-v2-nonce": nonce };
}

/** Decodes to 32 bytes and is canonical, but is nobody's signature. */
const WRONG = "A".repeat(43) + "=";

describe("computeSignature", () => {
  it("matches the documented V3 test vector", () => {
    expect(computeSignature("v3", TOKEN, signatureBaseUrl(URL_WITH_QUERY), NONCE)).toBe(V3);
  });

  it("matches the documented V2 test vector", () => {
    expect(computeSignature("v2", TOKEN, signatureBaseUrl(URL_WITH_QUERY), NONCE)).toBe(V2);
  });

  it("produces padded standard base64 (not base64url)", () => {
    const sig = computeSignature("v3", TOKEN, "https://a.example/x", "1");
    expect(sig).toMatch(/^[A-Za-z0-9+/]{43}=$/);
  });
});

describe("signatureBaseUrl", () => {
  it("strips the query string and the fragment", () => {
    expect(signatureBaseUrl("https://h.example/a/b?k=secret&x=1#frag")).toBe("https://h.example/a/b");
    expect(signatureBaseUrl("https://h.example/a/b#frag?not-a-query")).toBe("https://h.example/a/b");
  });

  it("drops the default port of the scheme", () => {
    expect(signatureBaseUrl("https://h.example:443/a")).toBe("https://h.example/a");
    expect(signatureBaseUrl("http://h.example:80/a")).toBe("http://h.example/a");
  });

  it("keeps a non-default port, including the other scheme's default", () => {
    expect(signatureBaseUrl("https://h.example:8443/a")).toBe("https://h.example:8443/a");
    expect(signatureBaseUrl("https://h.example:80/a")).toBe("https://h.example:80/a");
    expect(signatureBaseUrl("http://h.example:443/a")).toBe("http://h.example:443/a");
  });

  it("keeps a trailing slash, so it changes the signature", () => {
    expect(signatureBaseUrl("https://h.example/vobiz/answer/?x=1")).toBe("https://h.example/vobiz/answer/");
    const withSlash = computeSignature("v3", TOKEN, signatureBaseUrl("https://masking.example.com/vobiz/answer/"), NONCE);
    expect(withSlash).not.toBe(V3);
  });

  it("keeps the path byte-for-byte (no dot-segment or percent-encoding normalisation)", () => {
    expect(signatureBaseUrl("https://h.example/a/../b/%7euser/c d")).toBe("https://h.example/a/../b/%7euser/c d");
  });

  it("lower-cases scheme and host and drops user-info", () => {
    expect(signatureBaseUrl("HTTPS://user:pw@H.Example:443/Path")).toBe("https://h.example/Path");
  });

  it("handles IPv6 literals with and without a port", () => {
    expect(signatureBaseUrl("http://[::1]:8080/a?q")).toBe("http://[::1]:8080/a");
    expect(signatureBaseUrl("http://[::1]/a")).toBe("http://[::1]/a");
  });

  it("rejects a string that is not an absolute URL", () => {
    expect(() => signatureBaseUrl("/vobiz/answer")).toThrow(TypeError);
    expect(() => signatureBaseUrl("https:///path")).toThrow(TypeError);
  });
});

describe("verifyVobizSignature", () => {
  it("accepts the documented V3 signature and reports version, family and nonce", () => {
    expect(verifyVobizSignature({ headers: v3Headers(V3), url: URL_WITH_QUERY, authToken: TOKEN })).toEqual({
      status: "valid",
      version: "v3",
      family: "v3",
      signedWith: "authToken",
      nonce: NONCE,
      nonces: [NONCE],
    });
  });

  it("accepts the documented V2 signature when no V3 header is sent", () => {
    expect(verifyVobizSignature({ headers: v2Headers(V2), url: URL_WITH_QUERY, authToken: TOKEN })).toEqual({
      status: "valid",
      version: "v2",
      family: "v2",
      signedWith: "authToken",
      nonce: NONCE,
      nonces: [NONCE],
    });
  });

  it("ignores the query string, since Vobiz does not sign it", () => {
    const url = "https://masking.example.com/vobiz/answer?k=other&y=2";
    expect(verifyVobizSignature({ headers: v3Headers(V3), url, authToken: TOKEN }).status).toBe("valid");
  });

  it("accepts the URL with an explicit default port", () => {
    const url = "https://masking.example.com:443/vobiz/answer";
    expect(verifyVobizSignature({ headers: v3Headers(V3), url, authToken: TOKEN }).status).toBe("valid");
  });

  it("refuses when the URL differs only by a trailing slash", () => {
    const url = "https://masking.example.com/vobiz/answer/";
    expect(verifyVobizSignature({ headers: v3Headers(V3), url, authToken: TOKEN }).status).toBe("invalid");
  });

  it("refuses a tampered signature of the right length", () => {
    const tampered = (V3[0] === "A" ? "B" : "A") + V3.slice(1);
    expect(verifyVobizSignature({ headers: v3Headers(tampered), url: URL_WITH_QUERY, authToken: TOKEN })).toEqual({
      status: "invalid",
      version: "v3",
      nonce: NONCE,
      reason: "mismatch",
    });
  });

  it("refuses a signature of the wrong length without throwing", () => {
    for (const sig of [V3.slice(0, -1), V3 + "A", "x"]) {
      expect(verifyVobizSignature({ headers: v3Headers(sig), url: URL_WITH_QUERY, authToken: TOKEN }).status).toBe(
        "invalid",
      );
    }
  });

  it("refuses a valid signature paired with a different nonce (replayed signature, fresh nonce)", () => {
    const headers = v3Headers(V3, "12345678901234567891");
    expect(verifyVobizSignature({ headers, url: URL_WITH_QUERY, authToken: TOKEN }).status).toBe("invalid");
  });

  it("refuses the right signature checked against the wrong token", () => {
    expect(verifyVobizSignature({ headers: v3Headers(V3), url: URL_WITH_QUERY, authToken: "other" }).status).toBe(
      "invalid",
    );
  });

  it("refuses a signature header without its nonce header", () => {
    expect(
      verifyVobizSignature({ headers: { "x-vobiz-signature-v3": V3 }, url: URL_WITH_QUERY, authToken: TOKEN }),
    ).toEqual({ status: "invalid", version: "v3", reason: "nonce_missing" });
    expect(verifyVobizSignature({ headers: v3Headers(V3, "  "), url: URL_WITH_QUERY, authToken: TOKEN }).status).toBe(
      "invalid",
    );
  });

  it("reports absent when no signature headers are sent", () => {
    expect(verifyVobizSignature({ headers: {}, url: URL_WITH_QUERY, authToken: TOKEN })).toEqual({ status: "absent" });
  });

  it("reports absent when only a nonce header is sent", () => {
    const headers = { "x-vobiz-signature-v3-nonce": NONCE };
    expect(verifyVobizSignature({ headers, url: URL_WITH_QUERY, authToken: TOKEN }).status).toBe("absent");
  });

  it("ignores the legacy V1 header", () => {
    const headers = { "x-vobiz-signature": "anything-at-all" };
    expect(verifyVobizSignature({ headers, url: URL_WITH_QUERY, authToken: TOKEN }).status).toBe("absent");
  });

  it("accepts when any of several comma-separated signatures matches (token rotation)", () => {
    const old = computeSignature("v3", "old-token", signatureBaseUrl(URL_WITH_QUERY), NONCE);
    for (const value of [`${old},${V3}`, `${V3}, ${old}`, ` ${old} ,${V3} `]) {
      expect(verifyVobizSignature({ headers: v3Headers(value), url: URL_WITH_QUERY, authToken: TOKEN }).status).toBe(
        "valid",
      );
    }
  });

  it("refuses a comma list where none matches", () => {
    const headers = v3Headers(`${WRONG},${V2}`);
    expect(verifyVobizSignature({ headers, url: URL_WITH_QUERY, authToken: TOKEN }).status).toBe("invalid");
  });

  it("accepts a repeated header that Node delivered as an array", () => {
    const headers = { "x-vobiz-signature-v3": ["bogus", V3], "x-vobiz-signature-v3-nonce": NONCE };
    expect(verifyVobizSignature({ headers, url: URL_WITH_QUERY, authToken: TOKEN }).status).toBe("valid");
  });

  it("never accepts anything for an app whose token is empty", () => {
    const sig = computeSignature("v3", "", signatureBaseUrl(URL_WITH_QUERY), NONCE);
    expect(verifyVobizSignature({ headers: v3Headers(sig), url: URL_WITH_QUERY, authToken: "" }).status).toBe("invalid");
    const ma = { "x-vobiz-signature-ma-v3": sig, "x-vobiz-signature-v3-nonce": NONCE };
    expect(verifyVobizSignature({ headers: ma, url: URL_WITH_QUERY, authToken: "", parentAuthToken: "" }).status).toBe(
      "invalid",
    );
  });

  describe("any family may verify", () => {
    it("accepts a wrong V3 when V2 is right, and reports V2 and its nonce", () => {
      const v2Nonce = "98765432109876543210";
      const v2 = computeSignature("v2", TOKEN, signatureBaseUrl(URL_WITH_QUERY), v2Nonce);
      const headers = { ...v3Headers(WRONG), ...v2Headers(v2, v2Nonce) };
      expect(verifyVobizSignature({ headers, url: URL_WITH_QUERY, authToken: TOKEN })).toEqual({
        status: "valid",
        version: "v2",
        family: "v2",
        signedWith: "authToken",
        nonce: v2Nonce,
        nonces: [v2Nonce],
      });
    });

    it("accepts V2 when the V3 headers have no nonce", () => {
      const headers = { "x-vobiz-signature-v3": V3, ...v2Headers(V2) };
      expect(verifyVobizSignature({ headers, url: URL_WITH_QUERY, authToken: TOKEN })).toMatchObject({
        status: "valid",
        version: "v2",
      });
    });

    it("refuses when every family is wrong, reporting V3 (the first present)", () => {
      const headers = {
        ...v3Headers(WRONG),
        "x-vobiz-signature-ma-v3": WRONG,
        ...v2Headers(WRONG),
        "x-vobiz-signature-ma-v2": V3, // right bytes, wrong version: V2 signs base + nonce, V3 base + "." + nonce
      };
      expect(verifyVobizSignature({ headers, url: URL_WITH_QUERY, authToken: TOKEN })).toEqual({
        status: "invalid",
        version: "v3",
        nonce: NONCE,
        reason: "mismatch",
      });
    });

    it("reports V3 when V3 and V2 both verify with different nonces, and lists both nonces for the replay check", () => {
      const v2Nonce = "98765432109876543210";
      const v2 = computeSignature("v2", TOKEN, signatureBaseUrl(URL_WITH_QUERY), v2Nonce);
      // Header order must not matter: V2 first in the bag.
      const headers = { ...v2Headers(v2, v2Nonce), ...v3Headers(V3) };
      expect(verifyVobizSignature({ headers, url: URL_WITH_QUERY, authToken: TOKEN })).toEqual({
        status: "valid",
        version: "v3",
        family: "v3",
        signedWith: "authToken",
        nonce: NONCE,
        nonces: [NONCE, v2Nonce],
      });
    });

    it("lists a nonce once when V3 and V2 share it", () => {
      const headers = { ...v3Headers(V3), ...v2Headers(V2) };
      expect(verifyVobizSignature({ headers, url: URL_WITH_QUERY, authToken: TOKEN }).nonces).toEqual([NONCE]);
    });

    it("does not list the nonce of a family that failed", () => {
      const headers = { ...v3Headers(V3), ...v2Headers(WRONG, "98765432109876543210") };
      expect(verifyVobizSignature({ headers, url: URL_WITH_QUERY, authToken: TOKEN }).nonces).toEqual([NONCE]);
    });
  });

  describe("nonce shape", () => {
    const base = signatureBaseUrl(URL_WITH_QUERY);

    it("refuses a 5,000-character nonce even when the signature over it is right, and never returns it", () => {
      const long = "1".repeat(5000);
      const headers = v3Headers(computeSignature("v3", TOKEN, base, long), long);
      const result = verifyVobizSignature({ headers, url: URL_WITH_QUERY, authToken: TOKEN });
      expect(result).toEqual({ status: "invalid", version: "v3", reason: "nonce_malformed" });
    });

    it("accepts up to 64 characters of [0-9A-Za-z_-] and refuses 65", () => {
      const ok = "aZ_-09".repeat(10) + "abcd";
      expect(ok).toHaveLength(64);
      const sign = (nonce: string) => v3Headers(computeSignature("v3", TOKEN, base, nonce), nonce);
      expect(verifyVobizSignature({ headers: sign(ok), url: URL_WITH_QUERY, authToken: TOKEN }).status).toBe("valid");
      expect(verifyVobizSignature({ headers: sign(ok + "x"), url: URL_WITH_QUERY, authToken: TOKEN }).status).toBe(
        "invalid",
      );
    });

    it("refuses nonces with characters outside [0-9A-Za-z_-], even when correctly signed", () => {
      // ":" and "," could forge replay-ledger keys or come from a repeated nonce header; the rest are just not nonces.
      for (const nonce of ["1234:5678", "1234,5678", "12 34", "1234.5678", "12345/", "१२३४", "1234\u00005678"]) {
        const headers = v3Headers(computeSignature("v3", TOKEN, base, nonce), nonce);
        expect(verifyVobizSignature({ headers, url: URL_WITH_QUERY, authToken: TOKEN }), nonce).toMatchObject({
          status: "invalid",
          reason: "nonce_malformed",
        });
      }
    });

    it("refuses a repeated nonce header (Node joins it with a comma)", () => {
      const headers = { "x-vobiz-signature-v3": V3, "x-vobiz-signature-v3-nonce": [NONCE, NONCE] };
      expect(verifyVobizSignature({ headers, url: URL_WITH_QUERY, authToken: TOKEN }).status).toBe("invalid");
    });

    it("a malformed V3 nonce does not stop a correct V2 from verifying", () => {
      const headers = { ...v3Headers(V3, "x".repeat(5000)), ...v2Headers(V2) };
      expect(verifyVobizSignature({ headers, url: URL_WITH_QUERY, authToken: TOKEN })).toMatchObject({
        status: "valid",
        version: "v2",
        nonce: NONCE,
        nonces: [NONCE],
      });
    });
  });

  describe("decoded-bytes comparison", () => {
    it("compares bytes: the canonical signature decodes to the 32-byte HMAC", () => {
      const expected = Buffer.from(V3, "base64");
      expect(expected).toHaveLength(32);
      expect(decodeSignature(V3)?.equals(expected)).toBe(true);
    });

    it("refuses non-canonical spellings of the right bytes on purpose", () => {
      // Node's decoder is lenient: each of these decodes to exactly the right HMAC. Only the canonical padded
      // standard-base64 form (what Vobiz sends) is accepted, so which strings verify does not depend on a decoder's
      // leniency.
      // The last data character of a 32-byte value carries 2 unused bits: "0" has them zero, "1" differs only there.
      expect(V3.at(-2)).toBe("0");
      const variants = {
        unpadded: V3.slice(0, -1),
        doublePadded: V3 + "=",
        strayBits: V3.slice(0, -2) + "1=",
        base64url: V3.replaceAll("/", "_").replaceAll("+", "-"),
        interspersedGarbage: V3.slice(0, 10) + "!*" + V3.slice(10),
        innerWhitespace: V3.slice(0, 10) + " " + V3.slice(10),
      };
      const expected = Buffer.from(V3, "base64");
      for (const [name, variant] of Object.entries(variants)) {
        expect(variant, name).not.toBe(V3);
        expect(Buffer.from(variant, "base64").equals(expected), name).toBe(true);
        expect(decodeSignature(variant), name).toBeUndefined();
        expect(verifyVobizSignature({ headers: v3Headers(variant), url: URL_WITH_QUERY, authToken: TOKEN }).status, name).toBe(
          "invalid",
        );
      }
    });

    it("never throws on malformed base64 or odd padding, and refuses it", () => {
      const junk = ["", "=", "====", "A===", "AAAA====", "%%%%", "\u0000".repeat(44), "é".repeat(44), "=".repeat(44), V3.slice(0, 20) + "=" + V3.slice(21), "A".repeat(44), "A".repeat(42) + "==", "A".repeat(5000)];
      for (const sig of junk) {
        expect(decodeSignature(sig)).toBeUndefined();
        for (const name of ["x-vobiz-signature-v3", "x-vobiz-signature-ma-v3"]) {
          const headers = { [name]: sig, "x-vobiz-signature-v3-nonce": NONCE };
          expect(verifyVobizSignature({ headers, url: URL_WITH_QUERY, authToken: TOKEN }).status, JSON.stringify(sig)).toBe(
            "invalid",
          );
        }
      }
    });

    it("accepts the right signature next to junk in the same comma list", () => {
      const headers = v3Headers(`%%%,${V3.slice(0, -1)},,${V3}`);
      expect(verifyVobizSignature({ headers, url: URL_WITH_QUERY, authToken: TOKEN }).status).toBe("valid");
    });
  });

  describe("sub-account (MA) signatures", () => {
    const PARENT = "parent-auth-token";
    const base = signatureBaseUrl(URL_WITH_QUERY);
    const maV3 = computeSignature("v3", PARENT, base, NONCE);

    it("accepts MA-V3 alone when it verifies with the app's token (the app holds the main-account token)", () => {
      const headers = { "x-vobiz-signature-ma-v3": V3, "x-vobiz-signature-v3-nonce": NONCE };
      expect(verifyVobizSignature({ headers, url: URL_WITH_QUERY, authToken: TOKEN })).toEqual({
        status: "valid",
        version: "v3",
        family: "ma-v3",
        signedWith: "authToken",
        nonce: NONCE,
        nonces: [NONCE],
      });
    });

    it("accepts MA-V2 alone when it verifies with the app's token, using the V2 nonce header", () => {
      const headers = { "x-vobiz-signature-ma-v2": V2, "x-vobiz-signature-v2-nonce": NONCE };
      expect(verifyVobizSignature({ headers, url: URL_WITH_QUERY, authToken: TOKEN })).toMatchObject({
        status: "valid",
        version: "v2",
        family: "ma-v2",
        nonce: NONCE,
      });
    });

    it("does not take MA's nonce from the other family's nonce header", () => {
      const headers = { "x-vobiz-signature-ma-v2": V2, "x-vobiz-signature-v3-nonce": NONCE };
      expect(verifyVobizSignature({ headers, url: URL_WITH_QUERY, authToken: TOKEN })).toEqual({
        status: "invalid",
        version: "v2",
        reason: "nonce_missing",
      });
    });

    it("accepts a wrong V3 when MA-V3 is right for the app's token", () => {
      const headers = { ...v3Headers(WRONG), "x-vobiz-signature-ma-v3": V3 };
      expect(verifyVobizSignature({ headers, url: URL_WITH_QUERY, authToken: TOKEN })).toMatchObject({
        status: "valid",
        family: "ma-v3",
        nonce: NONCE,
      });
    });

    it("accepts a sub-account's own V3 (app holds the sub-account token) next to an MA-V3 it cannot check", () => {
      const headers = { ...v3Headers(V3), "x-vobiz-signature-ma-v3": maV3 };
      expect(verifyVobizSignature({ headers, url: URL_WITH_QUERY, authToken: TOKEN })).toMatchObject({
        status: "valid",
        family: "v3",
      });
    });

    it("prefers the account's own header over MA when both verify", () => {
      const headers = { ...v3Headers(V3), "x-vobiz-signature-ma-v3": V3 };
      expect(verifyVobizSignature({ headers, url: URL_WITH_QUERY, authToken: TOKEN }).family).toBe("v3");
    });

    it("accepts an MA-V3 made with a configured parent token", () => {
      const headers = { ...v3Headers(WRONG), "x-vobiz-signature-ma-v3": maV3 };
      expect(
        verifyVobizSignature({ headers, url: URL_WITH_QUERY, authToken: TOKEN, parentAuthToken: PARENT }),
      ).toEqual({ status: "valid", version: "v3", family: "ma-v3", signedWith: "parentAuthToken", nonce: NONCE, nonces: [NONCE] });
    });

    it("accepts an MA-V2 made with a configured parent token", () => {
      const headers = { "x-vobiz-signature-ma-v2": computeSignature("v2", PARENT, base, NONCE), "x-vobiz-signature-v2-nonce": NONCE };
      expect(
        verifyVobizSignature({ headers, url: URL_WITH_QUERY, authToken: TOKEN, parentAuthToken: PARENT }),
      ).toMatchObject({ status: "valid", version: "v2", family: "ma-v2", signedWith: "parentAuthToken" });
    });

    it("refuses an MA made with a parent token the app does not know", () => {
      const headers = { "x-vobiz-signature-ma-v3": maV3, "x-vobiz-signature-v3-nonce": NONCE };
      expect(verifyVobizSignature({ headers, url: URL_WITH_QUERY, authToken: TOKEN }).status).toBe("invalid");
    });

    it("never checks the account's own header against the parent token", () => {
      const headers = v3Headers(maV3);
      expect(verifyVobizSignature({ headers, url: URL_WITH_QUERY, authToken: TOKEN, parentAuthToken: PARENT }).status).toBe(
        "invalid",
      );
    });

    it("still accepts the account signature alongside a wrong MA signature", () => {
      const headers = { ...v3Headers(V3), "x-vobiz-signature-ma-v3": WRONG };
      expect(verifyVobizSignature({ headers, url: URL_WITH_QUERY, authToken: TOKEN, parentAuthToken: PARENT }).status).toBe(
        "valid",
      );
    });
  });
});

describe("simulator round trip as a sub-account", () => {
  const SUB = "sub-account-token";
  const PARENT = "main-account-token";
  const URL = "https://masking.example.com/v1/vobiz/app_1/answer?k=secret";

  /** Sends one request through the simulator and verifies it the way the server would, from the headers it got. */
  async function signedBy(sim: (fetchImpl: typeof fetch) => VobizSimulator, version: "v3" | "v2", authToken: string) {
    let received: Headers | undefined;
    const fetchImpl: typeof fetch = async (_input, init) => {
      received = new Headers(init?.headers);
      return new Response("<Response/>", { status: 200, headers: { "content-type": "application/xml" } });
    };
    const res = await sim(fetchImpl).request(URL, { CallUUID: "c1" }, { signatureVersion: version });
    const headers: HeaderBag = {};
    received!.forEach((value, name) => (headers[name] = value));
    return { res, headers, result: verifyVobizSignature({ headers, url: URL, authToken }) };
  }

  for (const version of ["v3", "v2"] as const) {
    it(`${version}: own signature with the sub-account token, MA with the parent; an app holding either verifies`, async () => {
      const make = (fetchImpl: typeof fetch) =>
        new VobizSimulator({ authToken: SUB, parentAuthToken: PARENT, answerUrl: URL, fetch: fetchImpl });
      const asParent = await signedBy(make, version, PARENT);
      expect(Object.keys(asParent.headers).sort()).toEqual(
        expect.arrayContaining([`x-vobiz-signature-${version}`, `x-vobiz-signature-ma-${version}`, `x-vobiz-signature-${version}-nonce`]),
      );
      expect(asParent.result).toMatchObject({ status: "valid", version, family: `ma-${version}`, nonce: asParent.res.nonce });

      const asSub = await signedBy(make, version, SUB);
      expect(asSub.result).toMatchObject({ status: "valid", version, family: version, nonce: asSub.res.nonce });

      expect((await signedBy(make, version, "someone-else")).result.status).toBe("invalid");
    });
  }

  it("masterSignatureOnly sends the MA signature instead of the account's own", async () => {
    const make = (fetchImpl: typeof fetch) =>
      new VobizSimulator({ authToken: SUB, parentAuthToken: PARENT, masterSignatureOnly: true, answerUrl: URL, fetch: fetchImpl });
    const { headers, result } = await signedBy(make, "v3", PARENT);
    expect(headers["x-vobiz-signature-v3"]).toBeUndefined();
    expect(result).toMatchObject({ status: "valid", family: "ma-v3" });
    expect((await signedBy(make, "v3", SUB)).result.status).toBe("invalid");
  });
});
