import { describe, expect, it } from "vitest";
import {
  computeSignature,
  signatureBaseUrl,
  verifyVobizSignature,
  type HeaderBag,
} from "../../server/src/vobiz/signature.js";

// The test vector from docs/vobiz.md section 3.
const TOKEN = "test-auth-token";
const URL_WITH_QUERY = "https://masking.example.com/vobiz/answer?x=1";
const NONCE = "12345678901234567890";
const V3 = "pGs9Kvd6fY625tug/Z/2Aji4/sTrJKf/tx33Mg3ckw0=";
const V2 = "Prm9o3Yyc34KT4PyNul/Mc/iiT9kdtMVXD+kdERicPs=";

function v3Headers(signature: string, nonce = NONCE): HeaderBag {
  return { "x-vobiz-signature-v3": signature, "x-vobiz-signature-v3-nonce": nonce };
}

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
  it("accepts the documented V3 signature and reports version and nonce", () => {
    expect(verifyVobizSignature({ headers: v3Headers(V3), url: URL_WITH_QUERY, authToken: TOKEN })).toEqual({
      status: "valid",
      version: "v3",
      nonce: NONCE,
    });
  });

  it("accepts the documented V2 signature when no V3 header is sent", () => {
    const headers = { "x-vobiz-signature-v2": V2, "x-vobiz-signature-v2-nonce": NONCE };
    expect(verifyVobizSignature({ headers, url: URL_WITH_QUERY, authToken: TOKEN })).toEqual({
      status: "valid",
      version: "v2",
      nonce: NONCE,
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
    ).toEqual({ status: "invalid", version: "v3" });
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

  it("prefers V3 and does not fall back to a valid V2 when V3 is wrong", () => {
    const headers = {
      ...v3Headers("A".repeat(43) + "="),
      "x-vobiz-signature-v2": V2,
      "x-vobiz-signature-v2-nonce": NONCE,
    };
    expect(verifyVobizSignature({ headers, url: URL_WITH_QUERY, authToken: TOKEN })).toMatchObject({
      status: "invalid",
      version: "v3",
    });
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
    const headers = v3Headers(`${"A".repeat(43)}=,${V2}`);
    expect(verifyVobizSignature({ headers, url: URL_WITH_QUERY, authToken: TOKEN }).status).toBe("invalid");
  });

  it("accepts a repeated header that Node delivered as an array", () => {
    const headers = { "x-vobiz-signature-v3": ["bogus", V3], "x-vobiz-signature-v3-nonce": NONCE };
    expect(verifyVobizSignature({ headers, url: URL_WITH_QUERY, authToken: TOKEN }).status).toBe("valid");
  });

  describe("sub-account (MA) signatures", () => {
    const PARENT = "parent-auth-token";
    const base = signatureBaseUrl(URL_WITH_QUERY);
    const maV3 = computeSignature("v3", PARENT, base, NONCE);

    it("accepts an MA-V3 signature made with the parent token and the V3 nonce header", () => {
      const headers = {
        "x-vobiz-signature-v3": "A".repeat(43) + "=",
        "x-vobiz-signature-ma-v3": maV3,
        "x-vobiz-signature-v3-nonce": NONCE,
      };
      expect(
        verifyVobizSignature({ headers, url: URL_WITH_QUERY, authToken: TOKEN, parentAuthToken: PARENT }),
      ).toEqual({ status: "valid", version: "v3", nonce: NONCE });
    });

    it("accepts an MA-only request when the parent token is configured", () => {
      const headers = { "x-vobiz-signature-ma-v3": maV3, "x-vobiz-signature-v3-nonce": NONCE };
      expect(
        verifyVobizSignature({ headers, url: URL_WITH_QUERY, authToken: TOKEN, parentAuthToken: PARENT }).status,
      ).toBe("valid");
    });

    it("accepts an MA-V2 signature with the V2 nonce header", () => {
      const headers = {
        "x-vobiz-signature-ma-v2": computeSignature("v2", PARENT, base, NONCE),
        "x-vobiz-signature-v2-nonce": NONCE,
      };
      expect(
        verifyVobizSignature({ headers, url: URL_WITH_QUERY, authToken: TOKEN, parentAuthToken: PARENT }),
      ).toEqual({ status: "valid", version: "v2", nonce: NONCE });
    });

    it("refuses an MA-only request when no parent token is configured", () => {
      const headers = { "x-vobiz-signature-ma-v3": maV3, "x-vobiz-signature-v3-nonce": NONCE };
      expect(verifyVobizSignature({ headers, url: URL_WITH_QUERY, authToken: TOKEN }).status).toBe("invalid");
    });

    it("does not accept the MA header checked against the account's own token", () => {
      const headers = { "x-vobiz-signature-ma-v3": V3, "x-vobiz-signature-v3-nonce": NONCE };
      expect(verifyVobizSignature({ headers, url: URL_WITH_QUERY, authToken: TOKEN, parentAuthToken: PARENT }).status).toBe(
        "invalid",
      );
    });

    it("still accepts the account signature alongside a wrong MA signature", () => {
      const headers = { ...v3Headers(V3), "x-vobiz-signature-ma-v3": "A".repeat(43) + "=" };
      expect(verifyVobizSignature({ headers, url: URL_WITH_QUERY, authToken: TOKEN, parentAuthToken: PARENT }).status).toBe(
        "valid",
      );
    });
  });

  it("never accepts anything for an app whose token is empty", () => {
    const sig = computeSignature("v3", "", signatureBaseUrl(URL_WITH_QUERY), NONCE);
    expect(verifyVobizSignature({ headers: v3Headers(sig), url: URL_WITH_QUERY, authToken: "" }).status).toBe("invalid");
  });
});
