/**
 * Envelope for personal data at rest: AES-256-GCM ciphertexts that name their key, and a keyed blind index for
 * equality lookups.
 *
 * - The master key is never used directly. HKDF-SHA256 derives one sub-key per purpose (encryption, blind index, key
 *   id), so a weakness or leak in one use does not carry over to another.
 * - Ciphertexts are self-describing: `v1.<keyId>.<iv>.<ciphertext>.<tag>` (base64url parts). The version and key id
 *   are bound as AES-GCM additional data, so editing the header is detected like editing the ciphertext.
 * - The current master key (MASKLINE_MASTER_KEY, or the generated one in embedded mode) encrypts and makes blind
 *   indexes. Previous keys (MASKLINE_MASTER_KEY_PREVIOUS) only decrypt, by the key id each ciphertext names, and make
 *   the blind indexes a lookup tries while data is still indexed under them: a rotation re-encrypts in the
 *   background (jobs/rekey.ts) and every read keeps working meanwhile (docs/privacy.md, "Key rotation").
 * - Error messages never contain plaintext or key material (they may end up in logs and problem+json bodies).
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from "node:crypto";
import { hashSecret as sha256Secret } from "./tokens.js";

const VERSION = "v1";
const IV_BYTES = 12; // the GCM-native nonce size: no extra GHASH step, and 96 random bits per message
const TAG_BYTES = 16;
const INFO_ENCRYPTION = "maskline/encryption/v1";
const INFO_BLIND_INDEX = "maskline/blind-index/v1";
const INFO_KEY_ID = "maskline/key-id/v1";
// The master key is already uniformly random, so HKDF needs no secret salt; a fixed label keeps derivation stable.
const HKDF_SALT = Buffer.from("maskline/hkdf/v1", "utf8");
const B64URL = /^[A-Za-z0-9_-]*$/;

export interface Keyring {
  /** Id of the current key (8 hex chars), written into every ciphertext. */
  readonly keyId: string;
  /** Ids of the previous keys, still accepted for reading (newest first). */
  readonly previousKeyIds: readonly string[];
  encrypt(plaintext: string): string;
  /** Decrypts a ciphertext written under the current or a previous key; one naming another key id is refused. */
  decrypt(token: string): string;
  /** True when the ciphertext is under the current key (nothing to re-encrypt). */
  isCurrent(token: string): boolean;
  /** Deterministic HMAC-SHA256 (hex) under the current key: store this for equality lookups. */
  blindIndex(value: string): string;
  /**
   * The value's blind index under every key, current first: what a lookup tries while rows are still indexed under
   * a previous key. One entry when no rotation is under way.
   */
  blindIndexes(value: string): string[];
  /** sha256 hex of a high-entropy secret (API keys); deliberately not keyed, see tokens.ts. */
  hashSecret(secret: string): string;
}

interface DerivedKey {
  id: string;
  encryptionKey: Buffer;
  blindIndexKey: Buffer;
}

function hkdf(master: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync("sha256", master, HKDF_SALT, Buffer.from(info, "utf8"), 32));
}

function deriveKey(master: Buffer): DerivedKey {
  if (!Buffer.isBuffer(master) || master.length !== 32) {
    throw new Error("keyring: the master key must be exactly 32 bytes");
  }
  // The id comes from a derived fingerprint, not the key itself: publishing it (it is in every ciphertext) reveals
  // nothing usable about the key, not even a hash of it.
  const fingerprint = hkdf(master, INFO_KEY_ID);
  return {
    id: createHash("sha256").update(fingerprint).digest("hex").slice(0, 8),
    encryptionKey: hkdf(master, INFO_ENCRYPTION),
    blindIndexKey: hkdf(master, INFO_BLIND_INDEX),
  };
}

function decodePart(part: string, what: string): Buffer {
  // Buffer.from(…, "base64url") ignores invalid characters; reject them so malformed input fails loudly.
  if (!B64URL.test(part)) throw new Error(`keyring: malformed ciphertext (${what})`);
  return Buffer.from(part, "base64url");
}

export function createKeyring(masterKey: Buffer, previousMasterKeys: readonly Buffer[] = []): Keyring {
  const key = deriveKey(masterKey);
  const previous = previousMasterKeys.map(deriveKey).filter((k) => k.id !== key.id);
  const byId = new Map([key, ...previous].map((k) => [k.id, k]));

  function aad(keyId: string): Buffer {
    return Buffer.from(`${VERSION}.${keyId}`, "utf8");
  }

  function parse(token: string): { keyId: string; iv: Buffer; ciphertext: Buffer; tag: Buffer } {
    if (typeof token !== "string") throw new Error("keyring: ciphertext must be a string");
    const parts = token.split(".");
    if (parts.length !== 5) throw new Error("keyring: malformed ciphertext");
    const [version, keyId, ivPart, ctPart, tagPart] = parts as [string, string, string, string, string];
    if (version !== VERSION) throw new Error("keyring: unsupported ciphertext version");
    const iv = decodePart(ivPart, "iv");
    const tag = decodePart(tagPart, "tag");
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new Error("keyring: malformed ciphertext");
    return { keyId, iv, ciphertext: decodePart(ctPart, "ciphertext"), tag };
  }

  const keyring: Keyring = {
    keyId: key.id,
    previousKeyIds: Object.freeze(previous.map((k) => k.id)),

    encrypt(plaintext: string): string {
      if (typeof plaintext !== "string") throw new TypeError("keyring: plaintext must be a string");
      // A fresh random IV per message: with 96-bit IVs the collision risk stays negligible far beyond our volumes,
      // and a counter would need coordinated state across replicas.
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv("aes-256-gcm", key.encryptionKey, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(aad(key.id));
      const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      const tag = cipher.getAuthTag();
      return [
        VERSION,
        key.id,
        iv.toString("base64url"),
        ciphertext.toString("base64url"),
        tag.toString("base64url"),
      ].join(".");
    },

    decrypt(token: string): string {
      const { keyId, iv, ciphertext, tag } = parse(token);
      const owner = byId.get(keyId);
      // The key id is not secret (it is in the stored text), so naming it tells an operator which key the data needs.
      if (!owner) {
        throw new Error(`keyring: no key with id ${JSON.stringify(keyId.slice(0, 16))} in the keyring`);
      }
      try {
        const decipher = createDecipheriv("aes-256-gcm", owner.encryptionKey, iv, { authTagLength: TAG_BYTES });
        decipher.setAAD(aad(keyId));
        decipher.setAuthTag(tag);
        return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString("utf8");
      } catch {
        // Node's message is generic already, but do not let any detail of the data through.
        throw new Error("keyring: ciphertext failed authentication (tampered, truncated or wrong key)");
      }
    },

    isCurrent(token: string): boolean {
      return typeof token === "string" && token.startsWith(`${VERSION}.${key.id}.`);
    },

    blindIndex(value: string): string {
      return createHmac("sha256", key.blindIndexKey).update(value, "utf8").digest("hex");
    },

    blindIndexes(value: string): string[] {
      return [key, ...previous].map((k) => createHmac("sha256", k.blindIndexKey).update(value, "utf8").digest("hex"));
    },

    hashSecret(secret: string): string {
      return sha256Secret(secret);
    },
  };
  return Object.freeze(keyring);
}
