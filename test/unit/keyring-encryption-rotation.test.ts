import { createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createKeyring } from "../../server/src/crypto/keyring.js";

const keyA = Buffer.alloc(32, 0xa1);
const keyB = Buffer.alloc(32, 0xb2);
const secretNumber = "+919888800001";

/** AES-256-GCM decryption by hand, with the additional data given: to check what the keyring binds. */
function decryptRaw(key: Buffer, aad: string, iv: string, ct: string, tag: string): string {
  const d = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
  d.setAAD(Buffer.from(aad));
  d.setAuthTag(Buffer.from(tag, "base64url"));
  return Buffer.concat([d.update(Buffer.from(ct, "base64url")), d.final()]).toString();
}

function flipChar(s: string, at: number): string {
  const c = s[at] === "A" ? "B" : "A";
  return s.slice(0, at) + c + s.slice(at + 1);
}

describe("createKeyring", () => {
  it("is frozen and has a short key id that is stable and not a hash of the raw key", () => {
    const ring = createKeyring(keyA);
    expect(Object.isFrozen(ring)).toBe(true);
    expect(ring.keyId).toMatch(/^[0-9a-f]{8}$/);
    expect(createKeyring(keyA).keyId).toBe(ring.keyId);
    expect(createKeyring(keyB).keyId).not.toBe(ring.keyId);
    expect(createHash("sha256").update(keyA).digest("hex").startsWith(ring.keyId)).toBe(false);
  });

  it("refuses keys that are not 32 bytes", () => {
    expect(() => createKeyring(Buffer.alloc(16))).toThrow(/32 bytes/);
    expect(() => createKeyring(Buffer.alloc(33))).toThrow(/32 bytes/);
  });
});

describe("encrypt / decrypt", () => {
  const ring = createKeyring(keyA);

  it("round-trips, including empty and non-ASCII text", () => {
    for (const text of [secretNumber, "", "नमस्ते 👋", "x".repeat(10_000)]) {
      expect(ring.decrypt(ring.encrypt(text))).toBe(text);
    }
  });

  it("writes v1.<keyId>.<iv>.<ciphertext>.<tag> with a 12-byte IV and 16-byte tag, base64url", () => {
    const token = ring.encrypt(secretNumber);
    const parts = token.split(".");
    expect(parts).toHaveLength(5);
    expect(parts[0]).toBe("v1");
    expect(parts[1]).toBe(ring.keyId);
    for (const p of parts.slice(2)) expect(p).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(parts[2]!, "base64url")).toHaveLength(12);
    expect(Buffer.from(parts[3]!, "base64url")).toHaveLength(Buffer.byteLength(secretNumber));
    expect(Buffer.from(parts[4]!, "base64url")).toHaveLength(16);
    expect(token).not.toContain("9888800001");
  });

  it("uses a fresh IV each time, so equal plaintexts give different ciphertexts", () => {
    const tokens = new Set(Array.from({ length: 200 }, () => ring.encrypt(secretNumber)));
    expect(tokens.size).toBe(200);
  });

  it("uses an HKDF-derived key (info maskline/encryption/v1), never the master key itself", () => {
    const [, keyId, iv, ct, tag] = ring.encrypt(secretNumber).split(".") as [string, string, string, string, string];
    const derived = Buffer.from(hkdfSync("sha256", keyA, "maskline/hkdf/v1", "maskline/encryption/v1", 32));
    expect(() => decryptRaw(keyA, `v1.${keyId}`, iv, ct, tag)).toThrow();
    expect(decryptRaw(derived, `v1.${keyId}`, iv, ct, tag)).toBe(secretNumber);
  });

  it("authenticates the version and key id as additional data, so a relabelled header fails even under the right key", () => {
    // What a keyring holding several keys will rely on: a ciphertext cannot be passed off as another key's.
    const [, keyId, iv, ct, tag] = ring.encrypt(secretNumber).split(".") as [string, string, string, string, string];
    const derived = Buffer.from(hkdfSync("sha256", keyA, "maskline/hkdf/v1", "maskline/encryption/v1", 32));
    expect(() => decryptRaw(derived, `v1.${createKeyring(keyB).keyId}`, iv, ct, tag)).toThrow();
    expect(() => decryptRaw(derived, `v2.${keyId}`, iv, ct, tag)).toThrow();
  });

  it("rejects tampering with any part, including the header, without revealing the plaintext", () => {
    const token = ring.encrypt(secretNumber);
    const parts = token.split(".");
    const tampered = [
      [parts[0], parts[1], parts[2], flipChar(parts[3]!, 0), parts[4]].join("."), // ciphertext
      [parts[0], parts[1], parts[2], parts[3], flipChar(parts[4]!, 2)].join("."), // tag
      [parts[0], parts[1], flipChar(parts[2]!, 1), parts[3], parts[4]].join("."), // iv
      [parts[0], parts[1], parts[2], parts[3]!.slice(0, -2), parts[4]].join("."), // truncated
      "v2" + token.slice(2), // version
      token + ".extra",
      "garbage",
      "",
      [parts[0], parts[1], "!!!!", parts[3], parts[4]].join("."),
    ];
    for (const t of tampered) {
      let message = "";
      expect(() => {
        try {
          ring.decrypt(t);
        } catch (err) {
          message = (err as Error).message;
          throw err;
        }
      }).toThrow(/keyring/);
      expect(message).not.toContain("9888800001");
    }
  });

});

describe("the key id in each ciphertext", () => {
  it("lets a keyring made later from the same master key (a restart) read what an earlier one wrote", () => {
    const token = createKeyring(keyA).encrypt(secretNumber);
    expect(createKeyring(keyA).decrypt(token)).toBe(secretNumber);
  });

  it("refuses a ciphertext written under another key, naming that key's id but not the data", () => {
    const other = createKeyring(randomBytes(32));
    const token = other.encrypt(secretNumber);
    let message = "";
    try {
      createKeyring(keyA).decrypt(token);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain(`no key with id "${other.keyId}"`);
    expect(message).not.toContain("9888800001");
  });
});

describe("blindIndex", () => {
  it("is deterministic, keyed, and differs from the encryption key's output and from plain sha256", () => {
    const ring = createKeyring(keyA);
    const idx = ring.blindIndex(secretNumber);
    expect(idx).toMatch(/^[0-9a-f]{64}$/);
    expect(ring.blindIndex(secretNumber)).toBe(idx);
    expect(createKeyring(keyA).blindIndex(secretNumber)).toBe(idx);
    expect(createKeyring(keyB).blindIndex(secretNumber)).not.toBe(idx);
    expect(ring.blindIndex("+919888800002")).not.toBe(idx);
    expect(idx).not.toBe(createHash("sha256").update(secretNumber).digest("hex"));
  });

  it("is HMAC-SHA256 under the HKDF-derived blind-index key (info maskline/blind-index/v1)", () => {
    const indexKey = Buffer.from(hkdfSync("sha256", keyA, "maskline/hkdf/v1", "maskline/blind-index/v1", 32));
    expect(createKeyring(keyA).blindIndex(secretNumber)).toBe(createHmac("sha256", indexKey).update(secretNumber).digest("hex"));
  });
});

describe("hashSecret", () => {
  it("is plain sha256 hex, independent of the master key", () => {
    const expected = createHash("sha256").update("mk_live_abc").digest("hex");
    expect(createKeyring(keyA).hashSecret("mk_live_abc")).toBe(expected);
    expect(createKeyring(keyB).hashSecret("mk_live_abc")).toBe(expected);
  });
});
