import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  base58Encode,
  constantTimeEqual,
  generateApiKey,
  generateToken,
  hashSecret,
  parseMasterKey,
} from "../../server/src/crypto/tokens.js";

describe("generateApiKey", () => {
  it("returns mk_live_ + base58 of 24 bytes, a 12-character display start and the sha256 hex of the secret", () => {
    const key = generateApiKey();
    expect(key.secret).toMatch(/^mk_live_[1-9A-HJ-NP-Za-km-z]{30,33}$/);
    expect(key.start).toBe(key.secret.slice(0, 12));
    expect(key.start).toMatch(/^mk_live_.{4}$/);
    expect(key.hash).toBe(createHash("sha256").update(key.secret).digest("hex"));
    expect(hashSecret(key.secret)).toBe(key.hash);
  });

  it("never repeats", () => {
    const secrets = new Set(Array.from({ length: 1000 }, () => generateApiKey().secret));
    expect(secrets.size).toBe(1000);
  });
});

describe("base58Encode", () => {
  it("matches the Bitcoin alphabet encoding, including leading zero bytes", () => {
    expect(base58Encode(Buffer.from("hello world"))).toBe("StV1DL6CwTryKyV");
    expect(base58Encode(Buffer.from([0, 0, 1]))).toBe("112");
    expect(base58Encode(Buffer.alloc(0))).toBe("");
  });
});

describe("generateToken", () => {
  it("is base64url of the requested number of random bytes", () => {
    const t = generateToken();
    expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(t, "base64url")).toHaveLength(32);
    expect(generateToken(16)).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(generateToken()).not.toBe(t);
  });

  it("refuses weak sizes", () => {
    expect(() => generateToken(8)).toThrow(RangeError);
  });
});

describe("constantTimeEqual", () => {
  it("compares by value, including different lengths, without throwing", () => {
    expect(constantTimeEqual("secret", "secret")).toBe(true);
    expect(constantTimeEqual("secret", "secreT")).toBe(false);
    expect(constantTimeEqual("secret", "secret-longer")).toBe(false);
    expect(constantTimeEqual("", "")).toBe(true);
    expect(constantTimeEqual("", "x")).toBe(false);
  });
});

describe("parseMasterKey", () => {
  it("accepts 32 bytes in base64 or base64url", () => {
    const raw = Buffer.alloc(32, 7);
    expect(parseMasterKey(raw.toString("base64")).equals(raw)).toBe(true);
    expect(parseMasterKey(` ${raw.toString("base64url")}\n`).equals(raw)).toBe(true);
  });

  it("rejects other lengths, non-base64 and all-zero keys without echoing the input", () => {
    const short = Buffer.alloc(16, 9).toString("base64");
    expect(() => parseMasterKey(short)).toThrow(/exactly 32 bytes.*16/);
    expect(() => parseMasterKey(Buffer.alloc(33, 9).toString("base64"))).toThrow(/33/);
    expect(() => parseMasterKey("not base64 at all!")).toThrow(/base64/);
    expect(() => parseMasterKey(Buffer.alloc(32).toString("base64"))).toThrow(/zero/);
    try {
      parseMasterKey(short);
    } catch (err) {
      expect(String((err as Error).message)).not.toContain(short);
    }
  });
});
